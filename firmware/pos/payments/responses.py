# ISO 8583:1987 response codes (field 39) with merchant-readable texts.
# (code: (approved, text)); EMV offline codes Y1/Y3/Z1/Z3 from EMV Book 4 A6.
CODES = {
    "00": (True, "Approved"),
    "01": (False, "Refer to card issuer"),
    "03": (False, "Invalid merchant"),
    "04": (False, "Pick up card"),
    "05": (False, "Do not honour"),
    "08": (True, "Approved with identification"),
    "10": (True, "Partial approval"),
    "12": (False, "Invalid transaction"),
    "13": (False, "Invalid amount"),
    "14": (False, "Invalid card number"),
    "25": (False, "Original transaction not found"),
    "30": (False, "Format error"),
    "41": (False, "Lost card - pick up"),
    "43": (False, "Stolen card - pick up"),
    "51": (False, "Insufficient funds"),
    "54": (False, "Expired card"),
    "55": (False, "Incorrect PIN"),
    "57": (False, "Transaction not permitted to cardholder"),
    "58": (False, "Transaction not permitted to terminal"),
    "61": (False, "Exceeds amount limit"),
    "62": (False, "Restricted card"),
    "63": (False, "Security violation"),
    "65": (False, "Exceeds frequency limit"),
    "68": (False, "Response received too late"),
    "75": (False, "PIN tries exceeded"),
    "76": (False, "Reconcile: batch mismatch"),
    "91": (False, "Issuer unavailable - try again"),
    "94": (False, "Duplicate transmission"),
    "95": (False, "Reconcile error - batch upload"),
    "96": (False, "System malfunction - try again"),
    "Y1": (True, "Approved offline"),
    "Y3": (True, "Approved offline (host unavailable)"),
    "Z1": (False, "Declined offline"),
    "Z3": (False, "Declined offline (host unavailable)"),
}


def lookup(code):
    """(approved, merchant text) for a field 39 value; unknown codes decline."""
    e = CODES.get(code)
    if e is None:
        return False, "Declined (code %s)" % code
    return e


def approved(code):
    return lookup(code)[0]


def text(code):
    return lookup(code)[1]
