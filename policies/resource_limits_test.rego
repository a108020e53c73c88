# Tests of resource-limits.rego; the input is replaced field by field (see deployment_test.rego).
package petswipe.resource_limits_test

import data.petswipe.resource_limits

test_modest_service_is_allowed if {
	denied := resource_limits.deny with input.environment as "staging"
		with input.resources as {"cpu_millicores": 512, "memory_mib": 1024, "storage_gib": 20}
		with input.cost as {"monthly_usd": 120}
	count(denied) == 0
}

test_cpu_too_high_is_denied if {
	denied := resource_limits.deny with input.environment as "production"
		with input.resources as {"cpu_millicores": 8192, "memory_mib": 8192, "storage_gib": 1}
		with input.cost as {"monthly_usd": 0}
	denied == {"resources.cpu_millicores is 8192; keep it between 128 and 4096"}
}

test_cpu_too_low_is_denied if {
	denied := resource_limits.deny with input.environment as "staging"
		with input.resources as {"cpu_millicores": 64, "memory_mib": 128, "storage_gib": 1}
		with input.cost as {"monthly_usd": 0}
	"resources.cpu_millicores is 64; keep it between 128 and 4096" in denied
}

test_memory_too_high_is_denied if {
	denied := resource_limits.deny with input.environment as "staging"
		with input.resources as {"cpu_millicores": 4096, "memory_mib": 16384, "storage_gib": 1}
		with input.cost as {"monthly_usd": 0}
	denied == {"resources.memory_mib is 16384; keep it between 128 and 8192"}
}

test_memory_starved_cpu_is_denied if {
	denied := resource_limits.deny with input.environment as "staging"
		with input.resources as {"cpu_millicores": 4000, "memory_mib": 1000, "storage_gib": 1}
		with input.cost as {"monthly_usd": 0}
	msg := "resources give 250 MiB of memory per CPU (1000 MiB / 4000 millicores); keep it between 512 and 8192"
	denied == {msg}
}

test_storage_over_quota_is_denied if {
	denied := resource_limits.deny with input.environment as "staging"
		with input.resources as {"cpu_millicores": 512, "memory_mib": 1024, "storage_gib": 100}
		with input.cost as {"monthly_usd": 0}
	denied == {"resources.storage_gib is 100; the storage quota is 50 GiB"}
}

test_cost_over_environment_cap_is_denied if {
	denied := resource_limits.deny with input.environment as "staging"
		with input.resources as {"cpu_millicores": 512, "memory_mib": 1024, "storage_gib": 1}
		with input.cost as {"monthly_usd": 900}
	denied == {"cost.monthly_usd is 900; the staging cap is 500 USD a month"}
}

test_cost_within_production_cap_is_allowed if {
	denied := resource_limits.deny with input.environment as "production"
		with input.resources as {"cpu_millicores": 512, "memory_mib": 1024, "storage_gib": 1}
		with input.cost as {"monthly_usd": 900}
	count(denied) == 0
}

test_unknown_environment_is_denied if {
	denied := resource_limits.deny with input.environment as "qa"
		with input.resources as {"cpu_millicores": 512, "memory_mib": 1024, "storage_gib": 1}
		with input.cost as {"monthly_usd": 0}
	denied == {"environment 'qa' has no monthly cost cap; add one to resource-limits.rego"}
}
