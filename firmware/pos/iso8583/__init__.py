# ISO 8583 codec: the message specification is data (pos.iso8583.spec and
# the profiles in pos.iso8583.spec87), the codec is small and generic.
#   from pos.iso8583 import codec, spec87
#   raw = codec.encode(spec87.SPEC, "0200", {2: "4761...", 3: "000000", ...})
#   mti, fields = codec.decode(spec87.SPEC, raw)
# See docs/iso8583.md.
