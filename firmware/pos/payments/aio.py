# asyncio variant of the host link, so the UI loop keeps running while the
# terminal waits for the acquirer.  Same journal, same rules, same engine
# state as the synchronous PaymentEngine (it drives the engine's steps and
# only does the network waits itself, on asyncio streams):
#
#   aauth = AsyncAuthorizer(engine)
#   resp = await aauth.authorize(req)
#   await aauth.complete(req, resp, card_approved)
#   await aauth.pump()          # e.g. from a periodic task
import asyncio
import time
from pos import log
from pos.payments.authorizer import AuthResponse, unable_to_go_online
from pos.payments.errors import BadReply, ConnectError, HostError, NoResponse, RoutingError, as_host_error
from pos.payments.transport import closed_by_host


class AsyncLink:
    """asyncio streams to one acquirer: primary, then secondary on connect failure."""

    def __init__(self, acquirer):
        self.acq = acquirer
        self.reader = None
        self.writer = None

    async def connect(self):
        if self.writer is not None:
            return
        last = None
        for ep in self.acq.link.endpoints:
            try:
                ctx = None
                if ep.tls:
                    import ssl
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    ctx.verify_mode = ssl.CERT_NONE
                self.reader, self.writer = await asyncio.wait_for_ms(
                    asyncio.open_connection(ep.host, ep.port, ssl=ctx) if ctx else
                    asyncio.open_connection(ep.host, ep.port), int(self.acq.link.connect_timeout * 1000))
                return
            except Exception as e:
                last = e
                log.warning("link", "connect failed", host=repr(ep), err=str(e) or type(e).__name__)
        raise ConnectError("no connection to %s (%s)" % (self.acq.name, last))

    async def close(self):
        w, self.reader, self.writer = self.writer, None, None
        if w is not None:
            try:
                w.close()
                await w.wait_closed()
            except Exception:
                pass

    async def exchange(self, mti, fields, use_mac=True):
        """The verified reply fields; raises HostError only (any other exception on the way
        comes out as BadReply(sent=True): outcome unknown, the engine reverses)."""
        try:
            return await self._exchange(mti, fields, use_mac)
        except HostError:
            raise
        except Exception as e:
            await self.close()
            log.error("host", "host path failed", acquirer=self.acq.name, err=repr(e))
            raise as_host_error(e)

    async def _exchange(self, mti, fields, use_mac):
        a = self.acq
        frame, want, stan, tak = a.request(mti, fields, use_mac)
        if self.writer is not None and closed_by_host(self.writer.s):
            log.info("link", "connection closed by the host while idle; reconnecting", acquirer=a.name)
            await self.close()
        await self.connect()
        try:
            self.writer.write(frame)
            await self.writer.drain()
        except Exception as e:
            await self.close()
            raise NoResponse("send failed: %s" % e, sent=True)
        deadline = time.ticks_add(time.ticks_ms(), a.timeout_ms)
        while True:
            try:
                hdr = await self._read(2, deadline)
                payload = await self._read((hdr[0] << 8) | hdr[1], deadline)
            except HostError:
                await self.close()
                raise
            try:
                rf = a.accept(memoryview(payload), want, stan, tak)
            except BadReply:
                await self.close()
                raise
            if rf is not None:
                return rf

    async def _read(self, n, deadline):
        left = time.ticks_diff(deadline, time.ticks_ms())
        if left <= 0:
            raise NoResponse("no reply within the timeout", sent=True)
        if n == 0 or n > self.acq.spec.max_message:
            raise BadReply("reply length header %d out of range" % n, sent=True)
        try:
            data = await asyncio.wait_for_ms(self.reader.readexactly(n), left)
        except asyncio.TimeoutError:
            raise NoResponse("no reply within the timeout", sent=True)
        except Exception as e:               # EOF, reset
            raise NoResponse("link error while reading: %s" % (str(e) or type(e).__name__), sent=True)
        if len(data) < n:
            raise NoResponse("host closed the connection", sent=True)
        return data


class AsyncAuthorizer:
    def __init__(self, engine):
        self.engine = engine
        self.links = {n: AsyncLink(engine.acquirers[n]) for n in engine.acquirers}

    async def sign_on(self, acq):
        e = self.engine
        return e.signed_on(acq, await self.links[acq].exchange("0800", e.sign_on_fields()))

    async def pump(self, acq=None, force=False):
        e = self.engine
        e.journal_owed()                   # a reversal owed but not journaled yet goes first
        now = time.ticks_ms()
        blocked = set()
        for x in e._due(acq, force, now):
            if x.acq in blocked:
                continue
            try:
                if not e.keystore.has_working_keys(x.acq):
                    await self.sign_on(x.acq)
                if x.state == "advice":
                    e._advice_answered(x, await self.links[x.acq].exchange(e.advice_mti(x), e._advice_fields(x)))
                else:
                    e._reversal_answered(x, await self.links[x.acq].exchange("0400", e._reversal_fields(x)))
                e._backoff.pop(x.acq, None)
            except Exception as err:       # HostError, key store, anything else: later
                e._retry_later(x, err, now)
                blocked.add(x.acq)
        return len(e.pending)

    async def authorize(self, req):
        e = self.engine
        full = e.refuse_when_full()
        if full is not None:
            return full
        try:
            acq = e.route(req)
        except RoutingError as err:
            log.error("engine", "routing failed", err=str(err))
            return AuthResponse(False, "", text="No acquirer for this card")
        if not e.keystore.has_working_keys(acq):
            try:
                await self.sign_on(acq)
            except Exception as err:           # nothing financial was sent
                log.warning("engine", "sign-on failed", acquirer=acq, err=str(err))
                return unable_to_go_online("Host unavailable", acq)
        await self.pump(acq, force=True)
        acq, mti, f, stan = e._build(req, acq)
        try:
            try:
                rf = await self.links[acq].exchange(mti, f)
                return e._answered(req, acq, stan, rf)
            except Exception as err:           # the one outcome rule (engine._failed)
                resp = e._failed(req, acq, stan, as_host_error(err), pump=False)
        except Exception:                      # not journaled (MemoryError): owed all the same
            e.unjournaled = stan
            raise
        await self.pump(acq, force=True)
        return resp

    async def complete(self, req, resp, card_approved, icc_data=b""):
        e = self.engine
        e.complete(req, resp, card_approved, icc_data, pump=False)
        if resp.stan:
            x = e.txns.get(int(resp.stan))
            if x is not None and x.stan in e.pending:
                await self.pump(x.acq, force=True)
