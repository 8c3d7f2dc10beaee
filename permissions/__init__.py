"""The policy: the permission catalogue, grants, scoping rules, no-escalation, permission classes."""
