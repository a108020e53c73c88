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
