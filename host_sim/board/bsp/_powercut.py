# Power-cut points of the virtual board's flash (board support, outside flash).  Every write
# the firmware makes to flash (filesystem files, ROMFS partitions, boot-control region) goes
# through write() here.  Tests arm a cut at the k-th write from now (VirtualBoard.run_until_cut):
# that write reaches flash whole ("clean") or half ("torn"), the board prints the marker and
# stops; the host then pulls the power.
MARKER = "\n*** POWER-CUT at flash write %d\n"

_at = 0
_torn = False
count = 0


def arm(k, torn=False):
    global _at, _torn, count
    _at, _torn, count = k, torn, 0


def write(f, data):
    global count
    count += 1
    if _at and count == _at:
        if _torn:
            f.write(memoryview(data)[:len(data) // 2])
        else:
            f.write(data)
        f.close()
        print(MARKER % count)
        while True:        # the host cuts the power here
            pass
    return f.write(data)
