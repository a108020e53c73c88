# Tests of plan.rego; the input is replaced field by field (see deployment_test.rego).
package petswipe.plan_test

import data.petswipe.plan

task := {"address": "module.stack.aws_ecs_task_definition.this", "type": "aws_ecs_task_definition", "values": {"cpu": "1024", "memory": "2048"}}

stable := {"address": "module.stack.aws_ecs_service.this", "type": "aws_ecs_service", "values": {"name": "petswipe-production-stable", "desired_count": 3}}

test_plan_matching_manifest_is_allowed if {
	resources := [task, stable]
	denied := plan.deny with input.plan as {"resources": resources}
		with input.resources as {"cpu_millicores": 1024, "memory_mib": 2048}
		with input.replicas as 3
	count(denied) == 0
}

test_plan_cpu_differing_from_manifest_is_denied if {
	resources := [task, stable]
	denied := plan.deny with input.plan as {"resources": resources}
		with input.resources as {"cpu_millicores": 512, "memory_mib": 2048}
		with input.replicas as 3
	msg := "module.stack.aws_ecs_task_definition.this plans 1024 CPU units but the manifest's resources.cpu_millicores is 512; make the root and the environment file agree"
	denied == {msg}
}

test_plan_memory_differing_from_manifest_is_denied if {
	resources := [task, stable]
	denied := plan.deny with input.plan as {"resources": resources}
		with input.resources as {"cpu_millicores": 1024, "memory_mib": 1024}
		with input.replicas as 3
	msg := "module.stack.aws_ecs_task_definition.this plans 2048 MiB of memory but the manifest's resources.memory_mib is 1024; make the root and the environment file agree"
	denied == {msg}
}

test_plan_replicas_differing_from_manifest_is_denied if {
	resources := [task, stable]
	denied := plan.deny with input.plan as {"resources": resources}
		with input.resources as {"cpu_millicores": 1024, "memory_mib": 2048}
		with input.replicas as 2
	msg := "module.stack.aws_ecs_service.this plans 3 tasks but the manifest's replicas is 2; make the root and the environment file agree"
	denied == {msg}
}

test_manifest_without_plan_is_allowed if {
	denied := plan.deny with input.resources as {"cpu_millicores": 1, "memory_mib": 1}
	count(denied) == 0
}
