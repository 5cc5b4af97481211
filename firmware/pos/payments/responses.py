# ISO 8583:1987 response codes (field 39) with merchant-readable texts; EMV offline codes
# Y1/Y3/Z1/Z3 from EMV Book 4 A6.  One line per code: the code, "+" approved or "-" declined,
# the text.  Kept as one string: as dictionary keys the codes would be interned names, RAM
# for ever on a ROMFS build.
CODES = (
    "\n"
    "00+Approved\n"
    "01-Refer to card issuer\n"
    "03-Invalid merchant\n"
    "04-Pick up card\n"
    "05-Do not honour\n"
    "08+Approved with identification\n"
    "10+Partial approval\n"
    "12-Invalid transaction\n"
    "13-Invalid amount\n"
    "14-Invalid card number\n"
    "25-Original transaction not found\n"
    "30-Format error\n"
    "41-Lost card - pick up\n"
    "43-Stolen card - pick up\n"
    "51-Insufficient funds\n"
    "54-Expired card\n"
    "55-Incorrect PIN\n"
    "57-Transaction not permitted to cardholder\n"
    "58-Transaction not permitted to terminal\n"
    "61-Exceeds amount limit\n"
    "62-Restricted card\n"
    "63-Security violation\n"
    "65-Exceeds frequency limit\n"
    "68-Response received too late\n"
    "75-PIN tries exceeded\n"
    "76-Reconcile: batch mismatch\n"
    "91-Issuer unavailable - try again\n"
    "94-Duplicate transmission\n"
    "95-Reconcile error - batch upload\n"
    "96-System malfunction - try again\n"
    "Y1+Approved offline\n"
    "Y3+Approved offline (host unavailable)\n"
    "Z1-Declined offline\n"
    "Z3-Declined offline (host unavailable)\n"
)


def lookup(code):
    """(approved, merchant text) for a field 39 value; unknown codes decline."""
    if isinstance(code, str) and len(code) == 2 and "\n" not in code:
        i = CODES.find("\n" + code)
        if i >= 0:
            return CODES[i + 3] == "+", CODES[i + 4:CODES.find("\n", i + 1)]
    return False, "Declined (code %s)" % code


def approved(code):
    return lookup(code)[0]


def text(code):
    return lookup(code)[1]
