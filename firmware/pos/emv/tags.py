# The EMV data dictionary (EMV 4.4 Book 3 Annex A) for the tags a terminal
# builds or reads: their format.  FORMAT drives DOL padding/truncation
# (Book 3 5.4): 'n' numeric BCD, 'cn' compressed numeric, 'an'/'ans'
# alphanumeric (special); a tag not in it is 'b', binary.
FORMAT = {
    0x42: "n", 0x50: "ans", 0x5A: "cn", 0x5F20: "ans", 0x5F24: "n", 0x5F25: "n", 0x5F28: "n",
    0x5F2A: "n", 0x5F2D: "an", 0x5F30: "n", 0x5F34: "n", 0x5F36: "n", 0x89: "an", 0x8A: "an",
    0x9A: "n", 0x9C: "n", 0x9F01: "n", 0x9F02: "n", 0x9F03: "n", 0x9F11: "n", 0x9F12: "ans",
    0x9F15: "n", 0x9F16: "ans", 0x9F1A: "n", 0x9F1C: "an", 0x9F1E: "an", 0x9F1F: "ans",
    0x9F20: "cn", 0x9F21: "n", 0x9F35: "n", 0x9F39: "n", 0x9F3B: "n", 0x9F3C: "n", 0x9F3D: "n",
    0x9F41: "n", 0x9F42: "n", 0x9F44: "n", 0x9F4E: "ans",
}
