package framework

import "testing"

func TestAgreementView(t *testing.T) {
	for role, want := range map[Role]AgreementScope{
		RoleAdmin: AgreementAll, RoleLead: AgreementAll, RoleQA: AgreementAll, RoleAnalyst: AgreementAll,
		RoleInspector: AgreementOwn, "": AgreementNone, "stranger": AgreementNone,
	} {
		if got := AgreementView(role); got != want {
			t.Errorf("AgreementView(%q) = %d, want %d", role, got, want)
		}
	}
}
