# hawkBit DDI client (Direct Device Integration API v1): the terminal polls its controller
# resource, sends its attributes when asked (configData), runs deployments (deploymentBase:
# download with HTTP Range resume, feedback on the way, result at the end) and answers cancel
# requests (cancelAction).  Polling alone delivers everything; a push (MQTT) only wakes the
# loop early.  Works against the smartpos cloud and any DDI server (Eclipse hawkBit, goosebit).
#
#     client = DdiClient("http://127.0.0.1:8700", "default", "SIM-0001", token)
#     agent = Agent(client, attributes=lambda: {...}, handlers={"os": firmware_handler})
#     asyncio.create_task(agent.run())
import asyncio
import io
import json

from micropython import const

from pos.net import http

# DDI status.execution values (hawkBit DDI API, "State Machine Mapping") and result.finished
# that this client sends; the others (canceled, scheduled, resumed, download) it never does.
# Few module names on purpose: every one is interned for good when the module loads (pos.modules).
CLOSED = "closed"
PROCEEDING = "proceeding"
REJECTED = "rejected"
DOWNLOADED = "downloaded"
DOWNLOAD = "download"          # progress of a download (the firmware image)
SUCCESS = "success"
FAILURE = "failure"
RETRIES = const(3)                  # tries of an action whose handler ran out of heap
NONE = "none"

_MIN_SLEEP_S = const(5)
_MAX_SLEEP_S = const(24 * 3600)
_MAX_RETRY_S = const(3600)


class DdiError(Exception):
    """The DDI server refused a request or answered something this client cannot use.
    `retry_s`: the wait the server asked for with 503 or 429 and Retry-After, else 0."""

    def __init__(self, message, status=0, retry_s=0):
        super().__init__(message)
        self.status = status
        self.retry_s = retry_s


def _retry_after(status, hdrs):
    """Seconds to wait before the next request when an overloaded server (503) or one that
    limits this client (429) says so with Retry-After in seconds (RFC 9110 section 10.2.3),
    bounded to 1 s .. 1 h; 0 otherwise (an HTTP-date needs a set clock: the back-off applies)."""
    if status != 503 and status != 429:
        return 0
    try:
        return min(_MAX_RETRY_S, max(1, int(hdrs.get("retry-after", ""))))
    except ValueError:
        return 0


def parse_sleep(text):
    """'HH:MM:SS' -> seconds, clamped to 5 s .. 24 h."""
    try:
        h, m, s = text.split(":")
        n = int(h) * 3600 + int(m) * 60 + int(s)
    except (ValueError, AttributeError):
        raise DdiError("bad polling interval %r" % (text,))
    return min(_MAX_SLEEP_S, max(_MIN_SLEEP_S, n))


class Deferred(Exception):
    """Raised by a handler when its deployment must wait (a transaction in progress, the batch
    open past its limit, outside the maintenance window); str() is the reason.  The action
    stays open (feedback "rejected": the cloud shows it deferred) and is tried at a later poll."""


class Artifact:
    __slots__ = ("filename", "size", "sha256", "sha1", "href")

    def __init__(self, d):
        try:
            self.filename = d["filename"]
            self.size = int(d.get("size") or 0)
            hashes = d.get("hashes") or {}
            self.sha256 = hashes.get("sha256", "")
            self.sha1 = hashes.get("sha1", "")      # the only hash some servers give (goosebit)
            links = d.get("_links") or {}
            self.href = (links.get("download") or links.get("download-http"))["href"]
        except (KeyError, TypeError, ValueError):
            raise DdiError("malformed artifact in the deployment")


class Chunk:
    __slots__ = ("part", "name", "version", "artifacts")

    def __init__(self, d):
        try:
            self.part, self.name, self.version = d["part"], d.get("name", ""), d.get("version", "")
            self.artifacts = [Artifact(a) for a in d.get("artifacts") or ()]
        except (KeyError, TypeError):
            raise DdiError("malformed chunk in the deployment")

    def artifact(self, filename):
        for a in self.artifacts:
            if a.filename == filename:
                return a
        return None


class Deployment:
    __slots__ = ("action_id", "download", "update", "maintenance_window", "chunks")

    def __init__(self, d):
        try:
            self.action_id = str(d["id"])
            dep = d["deployment"]
            self.download = dep.get("download", "forced")
            self.update = dep.get("update", "forced")
            self.maintenance_window = dep.get("maintenanceWindow", "")
            self.chunks = [Chunk(c) for c in dep.get("chunks") or ()]
        except (KeyError, TypeError, AttributeError):
            raise DdiError("malformed deploymentBase")

    @property
    def forced(self):
        return self.update == "forced"


class Poll:
    __slots__ = ("sleep_s", "links")

    def __init__(self, d):
        try:
            self.sleep_s = parse_sleep(d["config"]["polling"]["sleep"])
            self.links = {k: v["href"] for k, v in (d.get("_links") or {}).items()}
        except (KeyError, TypeError):
            raise DdiError("malformed poll answer")


class _Answer(io.IOBase):
    """A JSON answer kept as small pieces and parsed from them as a stream: a deployment with
    a few artifacts is 4 KB of text, a block a running counter's heap may not have in one piece."""
    PIECE = 512
    LIMIT = 16384

    def __init__(self):
        self.parts = []
        self.size = 0
        self.i = self.at = 0

    def take(self, mv):
        self.size += len(mv)
        if self.size > self.LIMIT:
            raise DdiError("answer over %d bytes" % self.LIMIT)
        for k in range(0, len(mv), self.PIECE):
            self.parts.append(bytes(mv[k:k + self.PIECE]))

    def readinto(self, buf):
        n = 0
        while n < len(buf) and self.i < len(self.parts):
            p = self.parts[self.i]
            k = min(len(buf) - n, len(p) - self.at)
            buf[n:n + k] = p[self.at:self.at + k]
            n += k
            self.at += k
            if self.at == len(p):
                self.parts[self.i] = None      # read: its memory can go
                self.i += 1
                self.at = 0
        return n


class DdiClient:
    def __init__(self, base_url, tenant, controller_id, target_token, timeout_ms=15000, ssl_context=None):
        self.base = base_url.rstrip("/")
        self.controller_id = controller_id
        self.root = "%s/%s/controller/v1/%s" % (self.base, tenant, controller_id)
        self._auth = "TargetToken " + target_token
        self.timeout_ms = timeout_ms
        self.ssl_context = ssl_context

    def _headers(self, extra=None):
        h = {"Authorization": self._auth, "Accept": "application/hal+json, application/json"}
        if extra:
            h.update(extra)
        return h

    async def _call(self, method, url, obj=None, ok=(200,)):
        body = None
        extra = None
        if obj is not None:
            body = json.dumps(obj).encode()
            extra = {"Content-Type": "application/json"}
        answer = _Answer()
        try:
            status, hdrs, n = await http.request(method, http.join(self.base, url), self._headers(extra), body,
                                                 sink=answer.take, timeout_ms=self.timeout_ms,
                                                 ssl_context=self.ssl_context)
        except http.HttpError as e:
            raise DdiError("cloud unreachable: %s" % e)
        if status not in ok:
            raise DdiError("%s %s answered %d" % (method, url.split("/controller/")[-1][:60], status), status,
                           _retry_after(status, hdrs))
        if not n:
            return None
        try:
            return json.load(answer)
        except ValueError:
            raise DdiError("answer is not JSON")

    async def poll(self):
        return Poll(await self._call("GET", self.root))

    async def put_config(self, data, mode="merge"):
        await self._call("PUT", self.root + "/configData",
                         {"mode": mode, "data": {k: str(v) for k, v in data.items()}})

    async def report_app_crashes(self, reports):
        """[{"app", "version", "why", "at"}] of apps the runtime stopped (the smartpos cloud's
        app store; not a hawkBit resource)."""
        await self._call("POST", self.root + "/apps/crashes", reports, ok=(201,))

    async def app_catalog(self):
        """The store's apps for the Apps menu: [{"id", "name", "version", "developer",
        "permissions", "size"}] (the smartpos cloud's app store)."""
        return await self._call("GET", self.root + "/apps")

    async def request_app(self, app_id):
        """Ask the store to install (or update) `app_id` here: it comes as a deployment."""
        return await self._call("POST", self.root + "/apps/" + app_id + "/install", {}, ok=(201,))

    async def deployment(self, href):
        return Deployment(await self._call("GET", href))

    async def feedback(self, action_id, execution, finished=NONE, details=(), progress=None, cancel=False):
        result = {"finished": finished}
        if progress is not None:
            result["progress"] = {"cnt": progress[0], "of": progress[1]}
        obj = {"id": str(action_id), "status": {"execution": execution, "result": result,
                                                 "details": [str(d)[:200] for d in details]}}
        url = "%s/%s/%s/feedback" % (self.root, "cancelAction" if cancel else "deploymentBase", action_id)
        await self._call("POST", url, obj)

    async def cancel_request(self, href):
        d = await self._call("GET", href)
        try:
            return str(d["cancelAction"]["stopId"])
        except (KeyError, TypeError):
            raise DdiError("malformed cancelAction")

    async def download(self, artifact, sink, offset=0, last=None):
        """Stream `artifact` from byte `offset` (to byte `last` included, when given) into
        `sink(memoryview)`; returns the new offset.  A server that ignores the Range header
        (200 instead of 206) is handled by dropping the bytes already there (the sink then gets
        everything to the end)."""
        extra = None
        if offset or last is not None:
            extra = {"Range": "bytes=%d-%s" % (offset, "" if last is None else last)}
        drop = [0]

        def head(status, _hdrs):
            drop[0] = offset if status == 200 else 0

        def take(mv):
            if drop[0]:
                k = min(drop[0], len(mv))
                drop[0] -= k
                mv = mv[k:]
            if len(mv):
                sink(mv)
        try:
            status, hdrs, n = await http.request("GET", http.join(self.base, artifact.href), self._headers(extra),
                                                 sink=take, on_head=head, timeout_ms=self.timeout_ms * 8,
                                                 ssl_context=self.ssl_context)
        except http.HttpError as e:
            raise DdiError("download of %s interrupted: %s" % (artifact.filename, e))
        if status == 416 and offset >= artifact.size:
            return offset
        if status not in (200, 206):
            raise DdiError("download of %s answered %d" % (artifact.filename, status), status,
                           _retry_after(status, hdrs))
        return offset + n if status == 206 else n


class Agent:
    """The polling loop.  `handlers` maps a chunk part ("os", "params", "bApp") to an object with
    ``async run(client, deployment, chunk, report)`` returning (ok, details); `busy()` returns a
    reason while the terminal must not be disturbed (a transaction in progress), else None."""

    def __init__(self, client, attributes=None, handlers=None, busy=None, log=None, retries=None):
        self.client = client
        # {action id: MemoryErrors so far}, kept by the caller across polls (the agent is built
        # per poll): a handler short of heap is the terminal's passing state, not the package's
        # fault, so the action stays open and is tried again, at most RETRIES times
        self.retries = {} if retries is None else retries
        self.attributes = attributes or (lambda: {})
        self.handlers = handlers or {}
        self.busy = busy or (lambda: None)
        self.log = log
        self.sleep_s = 300
        self.last_error = None
        self.last_action = None

    def _note(self, msg, **kv):
        if self.log is not None:
            self.log.info("ddi", msg, **kv)

    async def step(self):
        """One poll and whatever it asks for; returns the seconds to sleep before the next."""
        p = await self.client.poll()
        self.sleep_s = p.sleep_s
        if "configData" in p.links:
            await self.client.put_config(self.attributes())
        if "cancelAction" in p.links:
            stop = await self.client.cancel_request(p.links["cancelAction"])
            # nothing is left half-installed by the handlers, so a cancel is always honoured
            await self.client.feedback(stop, CLOSED, SUCCESS, ["cancelled on request"], cancel=True)
            self._note("cancelled", action=stop)
        elif "deploymentBase" in p.links:
            await self._deploy(p.links["deploymentBase"])
        return self.sleep_s

    async def _deploy(self, href):
        d = await self.client.deployment(href)
        if d.download == "skip":
            return
        reason = self.busy()
        if reason and not d.forced:
            await self.client.feedback(d.action_id, REJECTED, NONE, ["deferred: " + reason])
            return
        while reason:                       # forced: wait for the counter to be free, then go
            await asyncio.sleep(1)
            reason = self.busy()
        for c in d.chunks:
            if c.part not in self.handlers:
                await self.client.feedback(d.action_id, CLOSED, FAILURE,
                                           ["no handler for part %r on this terminal" % c.part])
                return
        await self.client.feedback(d.action_id, PROCEEDING, NONE, ["started"])

        async def report(execution, details=(), progress=None):
            await self.client.feedback(d.action_id, execution, NONE, details, progress)
        done = []
        for i, c in enumerate(d.chunks):
            try:
                ok, details = await self.handlers[c.part].run(self.client, d, c, report)
            except DdiError:
                raise                       # the link broke: the action stays open, retried next poll
            except Deferred as e:           # busy or outside the window: open, tried at a later poll
                await self.client.feedback(d.action_id, REJECTED, NONE, [str(e)])
                self._note("deferred", action=d.action_id, why=str(e))
                return
            except MemoryError as e:
                n = self.retries.get(d.action_id, 0) + 1
                if n < RETRIES:             # open; the poll loop unloads, collects and polls again
                    self.retries[d.action_id] = n
                    raise
                ok, details = False, ["MemoryError: %s (tried %d times)" % (e, n)]
            except Exception as e:          # a handler's refusal is the action's result
                ok, details = False, ["%s: %s" % (type(e).__name__, e)]
            if not ok:
                self.retries.pop(d.action_id, None)
                self._note("failed", action=d.action_id, why=details and details[0])
                await self.client.feedback(d.action_id, CLOSED, FAILURE, details)
                self.last_action = (d.action_id, False)
                return
            if details is None:             # the handler reboots and reports after the restart
                return
            done.extend(details)
        self.retries.pop(d.action_id, None)
        await self.client.feedback(d.action_id, CLOSED, SUCCESS, done or ["installed"])
        self.last_action = (d.action_id, True)

    async def run(self, wake=None):
        """Poll forever; `wake` (an asyncio.Event, set by a push) cuts a sleep short."""
        backoff = 5
        while True:
            try:
                sleep = await self.step()
                self.last_error = None
                backoff = 5
            except Exception as e:          # never let management take the counter down
                self.last_error = "%s: %s" % (type(e).__name__, e)
                self._note("poll failed", err=self.last_error)
                if isinstance(e, DdiError) and e.retry_s:
                    sleep = e.retry_s       # the server said when (503/429 Retry-After)
                else:
                    sleep, backoff = backoff, min(backoff * 2, self.sleep_s)
            if wake is None:
                await asyncio.sleep(sleep)
            else:
                try:
                    await asyncio.wait_for(wake.wait(), sleep)
                except asyncio.TimeoutError:
                    pass
                wake.clear()
