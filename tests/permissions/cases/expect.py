"""What a row of the permission matrix expects (`Case.expected`), one line to import."""

OK = "OK"  # no error; the field's data is present; a payload's errors are []
UNAUTHENTICATED = "UNAUTHENTICATED"  # top-level error code, the field's data is null
FORBIDDEN = "FORBIDDEN"  # top-level FORBIDDEN error, the field's data is null
RESET_REQUIRED = "PASSWORD_RESET_REQUIRED"
NOT_FOUND = "NOT_FOUND"  # mutation payload UserError NOT_FOUND (or a query answering null)
DENIED_INPUT = "DENIED_INPUT"  # mutation payload UserError FORBIDDEN (asks for more than held)
HIDDEN = "HIDDEN"  # query answers null / an empty list: as if the row did not exist
LAST_ADMIN = "LAST_ADMIN"
INVITATION_INVALID = "INVITATION_INVALID"  # mutation payload UserError: the link opens nothing
