# Tests of deployment.rego. rego-cpp 1.5 cannot replace the whole input in a test
# (`with input as {...}` fails to compile against rules that call built-ins), so each
# test replaces the input field by field with `with input.<field> as <literal or local>`.
package petswipe.deployment_test

import data.petswipe.deployment

image := {"registry": "registry.petswipe.dev", "repository": "petswipe/api", "tag": "1.2.0"}

health_check := {"path": "/health", "interval_seconds": 5, "timeout_seconds": 2}

resources := {"cpu_millicores": 250, "memory_mib": 512, "storage_gib": 1}

test_valid_manifest_is_allowed if {
	img := image
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as res
	count(denied) == 0
}

test_ecr_registry_is_allowed if {
	img := object.union(image, {"registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com"})
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as res
	count(denied) == 0
}

test_missing_health_check_is_denied if {
	img := image
	res := resources
	denied := deployment.deny with input.image as img with input.replicas as 2 with input.resources as res
	"health_check is missing; declare a health check path such as /health" in denied
}

test_health_check_without_path_is_denied if {
	img := image
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as {"interval_seconds": 5}
		with input.resources as res
	"health_check.path is missing; set it to the service's health endpoint such as /health" in denied
}

test_relative_health_check_path_is_denied if {
	img := image
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as {"path": "health"}
		with input.resources as res
	"health_check.path 'health' is not an absolute path; set it to e.g. /health" in denied
}

test_missing_resource_limit_is_denied if {
	img := image
	hc := health_check
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as {"cpu_millicores": 250}
	"resources.memory_mib is 0; set a positive resource limit" in denied
}

test_single_replica_is_denied if {
	img := image
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 1
		with input.health_check as hc
		with input.resources as res
	"replicas is 1; run at least 2 replicas so one can fail" in denied
}

test_unapproved_registry_is_denied if {
	img := object.union(image, {"registry": "docker.io"})
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as res
	"image registry 'docker.io' is not approved; push to registry.petswipe.dev or the account's ECR" in denied
}

test_latest_tag_is_denied if {
	img := object.union(image, {"tag": "latest"})
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as res
	denied == {"image tag 'latest' is mutable; release an immutable version tag"}
}

test_empty_tag_is_denied if {
	img := object.union(image, {"tag": ""})
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as res
	denied == {"image tag is empty; release an immutable version tag such as 1.2.0"}
}

test_non_semver_tag_is_denied if {
	img := object.union(image, {"tag": "nightly-2024"})
	hc := health_check
	res := resources
	denied := deployment.deny with input.image as img
		with input.replicas as 2
		with input.health_check as hc
		with input.resources as res
	denied == {"image tag 'nightly-2024' is not a semantic version; tag releases as MAJOR.MINOR.PATCH"}
}
