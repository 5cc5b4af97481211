# ISO 8583:1987 POS profile, packed variant ("iso87bcd"), as used by many
# acquirers' terminal links: a 2-byte length header, a 5-byte TPDU
# (ID 0x60, destination NII, source NII), the MTI and numeric/track-2 data
# elements packed BCD (odd lengths left-padded with 0 for n, right-padded
# with F for z), LL/LLL prefixes BCD (1 or 2 bytes), binary bitmaps; same
# data element directory as spec_iso87.
from pos.iso8583.spec import Spec, register
from pos.iso8583 import spec_iso87

SPEC = register(Spec("iso87bcd", spec_iso87.fields("bcd", spec_iso87.SPEC.fields), mti_enc="bcd", bitmap="bin",
                     len_enc="bcd", header=2, tpdu=True))
