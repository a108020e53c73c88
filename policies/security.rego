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
