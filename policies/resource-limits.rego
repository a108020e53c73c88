# Resource rules: sizes stay in the range the platform schedules well and costs stay capped.
package petswipe.resource_limits

cpu_range := {"min": 128, "max": 4096}

memory_range := {"min": 128, "max": 8192}

# MiB of memory per full CPU (1000 millicores): the span Fargate task sizes allow.
memory_per_cpu_range := {"min": 512, "max": 8192}

max_storage_gib := 50

monthly_cost_cap_usd := {"local": 0, "staging": 500, "production": 5000}

resources := object.get(input, "resources", {})

cpu := object.get(resources, "cpu_millicores", 0)

memory := object.get(resources, "memory_mib", 0)

deny contains msg if {
	not in_range(cpu, cpu_range)
	msg := sprintf(
		"resources.cpu_millicores is %v; keep it between %v and %v",
		[cpu, cpu_range.min, cpu_range.max],
	)
}

deny contains msg if {
	not in_range(memory, memory_range)
	msg := sprintf(
		"resources.memory_mib is %v; keep it between %v and %v",
		[memory, memory_range.min, memory_range.max],
	)
}

deny contains msg if {
	cpu > 0
	ratio := (memory * 1000) / cpu
	not in_range(ratio, memory_per_cpu_range)
	msg := sprintf(
		"resources give %v MiB of memory per CPU (%v MiB / %v millicores); keep it between %v and %v",
		[round(ratio), memory, cpu, memory_per_cpu_range.min, memory_per_cpu_range.max],
	)
}

deny contains msg if {
	storage := object.get(resources, "storage_gib", 0)
	storage > max_storage_gib
	msg := sprintf("resources.storage_gib is %v; the storage quota is %v GiB", [storage, max_storage_gib])
}

deny contains msg if {
	environment := object.get(input, "environment", null)
	not environment in object.keys(monthly_cost_cap_usd)
	msg := sprintf("environment '%v' has no monthly cost cap; add one to resource-limits.rego", [environment])
}

deny contains msg if {
	environment := object.get(input, "environment", null)
	limit := monthly_cost_cap_usd[environment]
	cost := object.get(input, ["cost", "monthly_usd"], 0)
	cost > limit
	msg := sprintf(
		"cost.monthly_usd is %v; the %v cap is %v USD a month",
		[cost, environment, limit],
	)
}

in_range(value, bounds) if {
	value >= bounds.min
	value <= bounds.max
}
