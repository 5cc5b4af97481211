# The DDI handler for signed parameter bundles: it only brings the bundle (one SWUpdate image,
# .swu) onto flash, resuming a broken download with an HTTP Range, and restarts the terminal.
# pos.tms.params.finish_staged() checks the signature and the content and applies the bundle at
# boot, before the counter loads: the checks need room and names (qstrs) that a running
# counter's heap no longer has in one piece, and the new parameters load with the restart.
# The next poll finds the same action open and this handler reports the recorded result.
#
#     handler = ParamsHandler()                 # the service's "params" part
#     ...restart... params.finish_staged()     # main.py, when TICKET is on flash
import json
import os

STAGED = "params.staged"          # the .swu as downloaded
TICKET = "params.ticket"          # {"action", "controller"}: written once the download is whole
RESULT = "params.result"          # {"action", "ok", "details"}: written by finish_staged
MAX_ARCHIVE = 32768 + 4 * 8192    # the bundle (pos.tms.params.MAX_BUNDLE) and its metadata
RESUMES = 3                       # a broken link is resumed this many times within one deployment


def record(action, ok, details):
    """The result of a staged bundle, for the report at the next poll."""
    with open(RESULT, "w") as f:
        json.dump({"action": action, "ok": ok, "details": details}, f)


def _result():
    try:
        with open(RESULT) as f:
            r = json.load(f)
    except (OSError, ValueError):
        return None
    os.remove(RESULT)
    return r


def bundle_artifact(chunk):
    """params.swu (the smartpos cloud), else the one .swu of a server that names files itself
    (goosebit)."""
    art = chunk.artifact("params.swu")
    if art is None:
        for a in chunk.artifacts:
            if a.filename.endswith(".swu"):
                return a
    return art


async def download(client, art, path, resumes=RESUMES):
    """`art` onto flash at `path`, resumed with a Range after a broken link; checked against the
    deployment's SHA-256, or its SHA-1 where the server gives only that.  Returns the resumes."""
    import binascii
    import hashlib
    from pos.tms.ddi import DdiError
    if art.sha256:
        h, want = hashlib.sha256(), art.sha256
    elif art.sha1:
        h, want = hashlib.sha1(), art.sha1
    else:
        h = want = None
    got = [0]
    with open(path, "wb") as f:
        def sink(mv):
            if got[0] + len(mv) > art.size:
                raise ValueError("%s is longer than its announced %d bytes" % (art.filename, art.size))
            f.write(mv)
            if h is not None:
                h.update(mv)
            got[0] += len(mv)
        tries = 0
        while True:
            try:
                await client.download(art, sink, got[0])
                break
            except DdiError:
                tries += 1
                if tries > resumes:
                    raise
    if got[0] != art.size:
        raise ValueError("%s: %d of %d bytes" % (art.filename, got[0], art.size))
    if h is not None and binascii.hexlify(h.digest()).decode() != want:
        raise ValueError("%s does not match its hash in the deployment" % art.filename)
    return tries


class ParamsHandler:
    """DDI handler for the "params" part (and a goosebit deployment of a parameter bundle)."""

    def __init__(self, reset=None):
        self.reset = reset
        self.resumed = 0

    async def run(self, client, dep, chunk, report):
        r = _result()
        if r is not None and r.get("action") == dep.action_id:
            return bool(r.get("ok")), list(r.get("details") or ())
        art = bundle_artifact(chunk)
        if art is None:
            return False, ["refused: signature: unsigned bundle: no .swu archive in the deployment"]
        if art.size > MAX_ARCHIVE:
            return False, ["parameter bundle of %d bytes is over %d" % (art.size, MAX_ARCHIVE)]
        try:
            self.resumed = await download(client, art, STAGED)
        except ValueError as e:
            os.remove(STAGED)
            return False, ["refused: %s" % e]
        with open(TICKET, "w") as f:
            json.dump({"action": dep.action_id, "controller": client.controller_id}, f)
        note = "bundle downloaded%s; checked and applied at the restart" % (
            " (resumed %d times)" % self.resumed if self.resumed else "")
        await report("downloaded", [note])
        if self.reset is None:
            import machine
            machine.reset()
        else:
            self.reset()
        return True, None
