# Plan rules: what terraform will create must be what the environment's manifest declares.
# The input is the manifest with the plan's resources under input.plan.resources
# (address, type, values); without a plan (a manifest-only check) nothing here applies.
package petswipe.plan

plan_resources := object.get(input, ["plan", "resources"], [])

manifest_resources := object.get(input, "resources", {})

deny contains msg if {
	some td in plan_resources
	td.type == "aws_ecs_task_definition"
	planned := to_number(td.values.cpu)
	declared := object.get(manifest_resources, "cpu_millicores", null)
	planned != declared
	msg := sprintf(
		"%v plans %v CPU units but the manifest's resources.cpu_millicores is %v; make the root and the environment file agree",
		[td.address, planned, declared],
	)
}

deny contains msg if {
	some td in plan_resources
	td.type == "aws_ecs_task_definition"
	planned := to_number(td.values.memory)
	declared := object.get(manifest_resources, "memory_mib", null)
	planned != declared
	msg := sprintf(
		"%v plans %v MiB of memory but the manifest's resources.memory_mib is %v; make the root and the environment file agree",
		[td.address, planned, declared],
	)
}

deny contains msg if {
	some service in plan_resources
	service.type == "aws_ecs_service"
	endswith(service.values.name, "-stable")
	planned := service.values.desired_count
	declared := object.get(input, "replicas", null)
	planned != declared
	msg := sprintf(
		"%v plans %v tasks but the manifest's replicas is %v; make the root and the environment file agree",
		[service.address, planned, declared],
	)
}
