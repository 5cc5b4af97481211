# EMV: BER-TLV and DOL handling, the data dictionary, and the contact kernel.
