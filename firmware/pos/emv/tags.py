# The EMV data dictionary (EMV 4.4 Book 3 Annex A) for the tags a terminal
# builds or reads: name and format.  FORMAT drives DOL padding/truncation
# (Book 3 5.4): 'n' numeric BCD, 'cn' compressed numeric, 'an'/'ans'
# alphanumeric (special), 'b' binary.
FORMAT = {
    0x42: "n", 0x4F: "b", 0x50: "ans", 0x57: "b", 0x5A: "cn", 0x5F20: "ans", 0x5F24: "n",
    0x5F25: "n", 0x5F28: "n", 0x5F2A: "n", 0x5F2D: "an", 0x5F30: "n", 0x5F34: "n",
    0x5F36: "n", 0x82: "b", 0x84: "b", 0x87: "b", 0x88: "b", 0x89: "an", 0x8A: "an",
    0x8C: "b", 0x8D: "b", 0x8E: "b", 0x8F: "b", 0x90: "b", 0x91: "b", 0x92: "b", 0x93: "b",
    0x94: "b", 0x95: "b", 0x97: "b", 0x98: "b", 0x99: "b", 0x9A: "n", 0x9B: "b", 0x9C: "n",
    0x9D: "b", 0x9F01: "n", 0x9F02: "n", 0x9F03: "n", 0x9F06: "b", 0x9F07: "b",
    0x9F08: "b", 0x9F09: "b", 0x9F0D: "b", 0x9F0E: "b", 0x9F0F: "b", 0x9F10: "b",
    0x9F11: "n", 0x9F12: "ans", 0x9F13: "b", 0x9F14: "b", 0x9F15: "n", 0x9F16: "ans",
    0x9F17: "b", 0x9F18: "b", 0x9F1A: "n", 0x9F1B: "b", 0x9F1C: "an", 0x9F1D: "b",
    0x9F1E: "an", 0x9F1F: "ans", 0x9F20: "cn", 0x9F21: "n", 0x9F22: "b", 0x9F23: "b",
    0x9F26: "b", 0x9F27: "b", 0x9F2D: "b", 0x9F2E: "b", 0x9F2F: "b", 0x9F32: "b",
    0x9F33: "b", 0x9F34: "b", 0x9F35: "n", 0x9F36: "b", 0x9F37: "b", 0x9F38: "b",
    0x9F39: "n", 0x9F3A: "b", 0x9F3B: "n", 0x9F3C: "n", 0x9F3D: "n", 0x9F40: "b",
    0x9F41: "n", 0x9F42: "n", 0x9F43: "b", 0x9F44: "n", 0x9F45: "b", 0x9F46: "b",
    0x9F47: "b", 0x9F48: "b", 0x9F49: "b", 0x9F4A: "b", 0x9F4B: "b", 0x9F4C: "b",
    0x9F4D: "b", 0x9F4E: "ans", 0x9F4F: "b", 0x9F53: "b", 0x9F5B: "b", 0x9F66: "b",
    0x9F6C: "b", 0x9F6E: "b", 0x9F7C: "b",
}

NAMES = {
    0x4F: "Application Identifier (AID) - card", 0x50: "Application Label",
    0x57: "Track 2 Equivalent Data", 0x5A: "Application PAN", 0x5F20: "Cardholder Name",
    0x5F24: "Application Expiration Date", 0x5F25: "Application Effective Date",
    0x5F28: "Issuer Country Code", 0x5F2A: "Transaction Currency Code",
    0x5F34: "Application PAN Sequence Number", 0x5F36: "Transaction Currency Exponent",
    0x82: "Application Interchange Profile", 0x84: "Dedicated File (DF) Name",
    0x87: "Application Priority Indicator", 0x88: "Short File Identifier (SFI)",
    0x8A: "Authorisation Response Code", 0x8C: "CDOL1", 0x8D: "CDOL2", 0x8E: "CVM List",
    0x8F: "Certification Authority Public Key Index", 0x90: "Issuer Public Key Certificate",
    0x91: "Issuer Authentication Data", 0x92: "Issuer Public Key Remainder",
    0x93: "Signed Static Application Data", 0x94: "Application File Locator",
    0x95: "Terminal Verification Results", 0x9A: "Transaction Date",
    0x9B: "Transaction Status Information", 0x9C: "Transaction Type",
    0x9F02: "Amount, Authorised (Numeric)", 0x9F03: "Amount, Other (Numeric)",
    0x9F06: "Application Identifier (AID) - terminal", 0x9F07: "Application Usage Control",
    0x9F08: "Application Version Number - card", 0x9F09: "Application Version Number - terminal",
    0x9F0D: "IAC - Default", 0x9F0E: "IAC - Denial", 0x9F0F: "IAC - Online",
    0x9F10: "Issuer Application Data", 0x9F12: "Application Preferred Name",
    0x9F13: "Last Online ATC Register", 0x9F14: "Lower Consecutive Offline Limit",
    0x9F17: "PIN Try Counter", 0x9F1A: "Terminal Country Code", 0x9F1E: "IFD Serial Number",
    0x9F21: "Transaction Time", 0x9F23: "Upper Consecutive Offline Limit",
    0x9F26: "Application Cryptogram", 0x9F27: "Cryptogram Information Data",
    0x9F2D: "ICC PIN Encipherment Public Key Certificate", 0x9F32: "Issuer Public Key Exponent",
    0x9F33: "Terminal Capabilities", 0x9F34: "CVM Results", 0x9F35: "Terminal Type",
    0x9F36: "Application Transaction Counter", 0x9F37: "Unpredictable Number",
    0x9F38: "PDOL", 0x9F40: "Additional Terminal Capabilities", 0x9F41: "Transaction Sequence Counter",
    0x9F46: "ICC Public Key Certificate", 0x9F47: "ICC Public Key Exponent",
    0x9F48: "ICC Public Key Remainder", 0x9F49: "DDOL", 0x9F4A: "Static Data Authentication Tag List",
    0x9F4B: "Signed Dynamic Application Data", 0x9F4C: "ICC Dynamic Number",
    0x9F4E: "Merchant Name and Location", 0x9F4F: "Log Format", 0x9F5B: "Issuer Script Results",
}


def fmt(tag):
    return FORMAT.get(tag, "b")
