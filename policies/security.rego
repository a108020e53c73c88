# Security rules: the container runs unprivileged and reads its secrets from the secret store.
#
# Messages take null, never a string literal, as the default of a missing field:
# rego-cpp 1.5 renders a defaulted string literal with its quotes and breaks the output.
package petswipe.security

allowed_capabilities := {"NET_BIND_SERVICE"}

security := object.get(input, "security", {})

deny contains msg if {
	not security.run_as_non_root == true
	value := object.get(security, "run_as_non_root", null)
	msg := sprintf("security.run_as_non_root is %v; set it to true", [value])
}

deny contains msg if {
	security.run_as_user == 0
	msg := "security.run_as_user is 0 (root); run as an unprivileged uid such as 10001"
}

deny contains msg if {
	not "run_as_user" in object.keys(security)
	msg := "security.run_as_user is missing; run as an unprivileged uid such as 10001"
}

deny contains msg if {
	not security.read_only_root_filesystem == true
	value := object.get(security, "read_only_root_filesystem", null)
	msg := sprintf(
		"security.read_only_root_filesystem is %v; set it to true and write only to mounted volumes",
		[value],
	)
}

deny contains msg if {
	security.privileged == true
	msg := "security.privileged is true; set it to false"
}

deny contains msg if {
	security.allow_privilege_escalation == true
	msg := "security.allow_privilege_escalation is true; set it to false"
}

deny contains msg if {
	drop := object.get(security, "capabilities_drop", [])
	not "ALL" in drop
	msg := sprintf("security.capabilities_drop is %v; drop ALL and add back only what is needed", [drop])
}

deny contains msg if {
	some capability in object.get(security, "capabilities_add", [])
	not allowed_capabilities[capability]
	allowed := concat(", ", sort(allowed_capabilities))

	# concat, not sprintf: rego-cpp 1.5 quotes a concat result passed to sprintf
	msg := concat("", ["security.capabilities_add contains '", capability, "'; only ", allowed, " may be added"])
}

deny contains msg if {
	some secret in object.get(input, "secrets", [])
	not secret.source == "secret-store"
	name := object.get(secret, "name", null)
	source := object.get(secret, "source", null)
	msg := sprintf("secret '%v' has source '%v'; read it from the secret store", [name, source])
}

deny contains msg if {
	some secret in object.get(input, "secrets", [])
	"value" in object.keys(secret)
	name := object.get(secret, "name", null)
	msg := sprintf(
		"secret '%v' carries a plain value; keep only its name and read it from the secret store",
		[name],
	)
}

# Network rules, on the plan's resources (input.plan.resources) when a plan is judged:
# nothing is reachable from the internet except the load balancer's HTTPS listener.
plan_resources := object.get(input, ["plan", "resources"], [])

world := {"0.0.0.0/0", "::/0"}

deny contains msg if {
	some service in plan_resources
	service.type == "aws_ecs_service"
	some network in object.get(service.values, "network_configuration", [])
	network.assign_public_ip == true
	msg := sprintf("%v gives its tasks public IPs; set assign_public_ip = false", [service.address])
}

deny contains msg if {
	some db in plan_resources
	db.type == "aws_db_instance"
	db.values.publicly_accessible == true
	msg := sprintf("%v is publicly accessible; set publicly_accessible = false", [db.address])
}

deny contains msg if {
	some listener in plan_resources
	listener.type == "aws_lb_listener"
	listener.values.protocol == "HTTP"
	not redirects_to_https(listener)
	msg := sprintf("%v serves plain HTTP; listen on HTTPS or redirect to it", [listener.address])
}

deny contains msg if {
	some rule in world_ingress
	not https_only(rule)
	msg := sprintf(
		"%v lets %v reach ports %v-%v; only HTTPS (443) may be open to the world",
		[rule.address, rule.source, rule.from_port, rule.to_port],
	)
}

world_ingress contains rule if {
	some group in plan_resources
	group.type == "aws_security_group"
	some ingress in object.get(group.values, "ingress", [])
	some source in array.concat(object.get(ingress, "cidr_blocks", []), object.get(ingress, "ipv6_cidr_blocks", []))
	world[source]
	rule := {"address": group.address, "source": source, "from_port": ingress.from_port, "to_port": ingress.to_port}
}

world_ingress contains rule if {
	some item in plan_resources
	item.type == "aws_security_group_rule"
	item.values.type == "ingress"
	some source in array.concat(object.get(item.values, "cidr_blocks", []), object.get(item.values, "ipv6_cidr_blocks", []))
	world[source]
	rule := {"address": item.address, "source": source, "from_port": item.values.from_port, "to_port": item.values.to_port}
}

world_ingress contains rule if {
	some item in plan_resources
	item.type == "aws_vpc_security_group_ingress_rule"
	some source in [object.get(item.values, "cidr_ipv4", null), object.get(item.values, "cidr_ipv6", null)]
	world[source]
	rule := {"address": item.address, "source": source, "from_port": item.values.from_port, "to_port": item.values.to_port}
}

https_only(rule) if {
	rule.from_port == 443
	rule.to_port == 443
}

redirects_to_https(listener) if {
	some action in object.get(listener.values, "default_action", [])
	action.type == "redirect"
	some redirect in object.get(action, "redirect", [])
	redirect.protocol == "HTTPS"
}
