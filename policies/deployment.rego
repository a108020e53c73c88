# Deployment rules: what every release of the service must declare before it ships.
#
# Messages take null, never a string literal, as the default of a missing field:
# rego-cpp 1.5 renders a defaulted string literal with its quotes and breaks the output.
package petswipe.deployment

approved_registries := {"registry.petswipe.dev"}

ecr_registry := `^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$`

min_replicas := 2

approved_registry(registry) if approved_registries[registry]

approved_registry(registry) if regex.match(ecr_registry, registry)

tag := object.get(input, ["image", "tag"], "")

deny contains msg if {
	not input.health_check
	msg := "health_check is missing; declare a health check path such as /health"
}

deny contains msg if {
	input.health_check
	not is_string(input.health_check.path)
	msg := "health_check.path is missing; set it to the service's health endpoint such as /health"
}

deny contains msg if {
	path := input.health_check.path
	is_string(path)
	not startswith(path, "/")
	msg := sprintf("health_check.path '%v' is not an absolute path; set it to e.g. /health", [path])
}

deny contains msg if {
	some field in ["cpu_millicores", "memory_mib"]
	value := object.get(input, ["resources", field], 0)
	value <= 0
	msg := sprintf("resources.%v is %v; set a positive resource limit", [field, value])
}

deny contains msg if {
	replicas := object.get(input, "replicas", 0)
	replicas < min_replicas
	msg := sprintf("replicas is %v; run at least %v replicas so one can fail", [replicas, min_replicas])
}

deny contains msg if {
	registry := object.get(input, ["image", "registry"], null)
	not approved_registry(registry)
	msg := sprintf(
		"image registry '%v' is not approved; push to registry.petswipe.dev or the account's ECR",
		[registry],
	)
}

deny contains msg if {
	tag == ""
	msg := "image tag is empty; release an immutable version tag such as 1.2.0"
}

deny contains msg if {
	tag == "latest"
	msg := "image tag 'latest' is mutable; release an immutable version tag"
}

deny contains msg if {
	not tag in {"", "latest"}
	not semver.is_valid(tag)
	msg := sprintf("image tag '%v' is not a semantic version; tag releases as MAJOR.MINOR.PATCH", [tag])
}
