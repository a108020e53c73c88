# Tests of security.rego; the input is replaced field by field (see deployment_test.rego).
package petswipe.security_test

import data.petswipe.security

hardened := {
	"run_as_non_root": true,
	"run_as_user": 10001,
	"read_only_root_filesystem": true,
	"privileged": false,
	"allow_privilege_escalation": false,
	"capabilities_add": [],
	"capabilities_drop": ["ALL"],
}

store_secrets := [{"name": "DATABASE_URL", "source": "secret-store"}]

denied_with(changes) := denied if {
	sec := object.union(hardened, changes)
	secrets := store_secrets
	denied := security.deny with input.security as sec with input.secrets as secrets
}

test_hardened_container_is_allowed if {
	count(denied_with({})) == 0
}

test_net_bind_service_capability_is_allowed if {
	count(denied_with({"capabilities_add": ["NET_BIND_SERVICE"]})) == 0
}

test_root_user_is_denied if {
	"security.run_as_user is 0 (root); run as an unprivileged uid such as 10001" in denied_with({"run_as_user": 0})
}

test_missing_user_is_denied if {
	sec := object.remove(hardened, ["run_as_user"])
	denied := security.deny with input.security as sec
	"security.run_as_user is missing; run as an unprivileged uid such as 10001" in denied
}

test_run_as_non_root_false_is_denied if {
	"security.run_as_non_root is false; set it to true" in denied_with({"run_as_non_root": false})
}

test_writable_root_filesystem_is_denied if {
	msg := "security.read_only_root_filesystem is false; set it to true and write only to mounted volumes"
	msg in denied_with({"read_only_root_filesystem": false})
}

test_privileged_is_denied if {
	"security.privileged is true; set it to false" in denied_with({"privileged": true})
}

test_privilege_escalation_is_denied if {
	msg := "security.allow_privilege_escalation is true; set it to false"
	msg in denied_with({"allow_privilege_escalation": true})
}

test_capabilities_not_dropped_is_denied if {
	msg := `security.capabilities_drop is ["NET_RAW"]; drop ALL and add back only what is needed`
	msg in denied_with({"capabilities_drop": ["NET_RAW"]})
}

test_unlisted_capability_is_denied if {
	msg := "security.capabilities_add contains 'SYS_ADMIN'; only NET_BIND_SERVICE may be added"
	msg in denied_with({"capabilities_add": ["SYS_ADMIN"]})
}

test_secret_outside_store_is_denied if {
	sec := hardened
	denied := security.deny with input.security as sec
		with input.secrets as [{"name": "API_KEY", "source": "env"}]
	"secret 'API_KEY' has source 'env'; read it from the secret store" in denied
}

test_plain_secret_value_is_denied if {
	sec := hardened
	denied := security.deny with input.security as sec
		with input.secrets as [{"name": "API_KEY", "source": "secret-store", "value": "hunter2"}]
	"secret 'API_KEY' carries a plain value; keep only its name and read it from the secret store" in denied
}

open_ssh := {"address": "aws_security_group.admin", "type": "aws_security_group", "values": {"ingress": [{"from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": []}]}}

alb_https := {"address": "aws_vpc_security_group_ingress_rule.https", "type": "aws_vpc_security_group_ingress_rule", "values": {"from_port": 443, "to_port": 443, "cidr_ipv4": "0.0.0.0/0"}}

test_world_open_ssh_is_denied if {
	sec := hardened
	resources := [open_ssh, alb_https]
	denied := security.deny with input.security as sec with input.plan as {"resources": resources}
	denied == {"aws_security_group.admin lets 0.0.0.0/0 reach ports 22-22; only HTTPS (443) may be open to the world"}
}

test_world_open_https_is_allowed if {
	sec := hardened
	resources := [alb_https]
	denied := security.deny with input.security as sec with input.plan as {"resources": resources}
	count(denied) == 0
}

test_public_task_ip_is_denied if {
	sec := hardened
	service := {"address": "aws_ecs_service.api", "type": "aws_ecs_service", "values": {"network_configuration": [{"assign_public_ip": true}]}}
	resources := [service]
	denied := security.deny with input.security as sec with input.plan as {"resources": resources}
	denied == {"aws_ecs_service.api gives its tasks public IPs; set assign_public_ip = false"}
}

test_public_database_is_denied if {
	sec := hardened
	db := {"address": "aws_db_instance.main", "type": "aws_db_instance", "values": {"publicly_accessible": true}}
	resources := [db]
	denied := security.deny with input.security as sec with input.plan as {"resources": resources}
	denied == {"aws_db_instance.main is publicly accessible; set publicly_accessible = false"}
}

test_plain_http_listener_is_denied if {
	sec := hardened
	listener := {"address": "aws_lb_listener.http", "type": "aws_lb_listener", "values": {"protocol": "HTTP", "default_action": [{"type": "forward"}]}}
	resources := [listener]
	denied := security.deny with input.security as sec with input.plan as {"resources": resources}
	denied == {"aws_lb_listener.http serves plain HTTP; listen on HTTPS or redirect to it"}
}

test_http_redirect_listener_is_allowed if {
	sec := hardened
	listener := {"address": "aws_lb_listener.http", "type": "aws_lb_listener", "values": {"protocol": "HTTP", "default_action": [{"type": "redirect", "redirect": [{"protocol": "HTTPS"}]}]}}
	resources := [listener]
	denied := security.deny with input.security as sec with input.plan as {"resources": resources}
	count(denied) == 0
}
