# MQTT 3.1.1 subscriber (OASIS MQTT 3.1.1): just enough to be woken by the cloud.  Connects,
# subscribes to one topic at QoS 0, answers the broker's keep-alive with PINGREQ, and calls
# `on_message(topic, payload)` for each PUBLISH; reconnects with backoff.  Every packet is
# bounded (a broker that sends more than MAX_PACKET is dropped as broken).
#
#     sub = Subscriber("127.0.0.1", 1883, "SIM-0001", "smartpos/default/SIM-0001/wake", on_message)
#     asyncio.create_task(sub.run())
import asyncio
import struct

from micropython import const

CONNECT = const(0x10)
CONNACK = const(0x20)
PUBLISH = const(0x30)
PUBACK = const(0x40)
SUBSCRIBE = const(0x82)
SUBACK = const(0x90)
PINGREQ = const(0xC0)
PINGRESP = const(0xD0)
MAX_PACKET = const(512)


class MqttError(Exception):
    """The broker refused us or broke the protocol."""


def _string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def _packet(kind, body):
    out = bytearray([kind])
    n = len(body)
    while True:                           # remaining length, 7 bits a byte (MQTT 3.1.1 2.2.3)
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + body


def connect_packet(client_id, keepalive_s, username=None, password=None):
    flags = 0x02                          # clean session
    payload = _string(client_id)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
        if password is not None:
            flags |= 0x40
            payload += _string(password)
    return _packet(CONNECT, _string("MQTT") + bytes([4, flags]) + struct.pack(">H", keepalive_s) + payload)


def subscribe_packet(packet_id, topic):
    return _packet(SUBSCRIBE, struct.pack(">H", packet_id) + _string(topic) + b"\x00")


async def _read_packet(reader):
    head = await reader.readexactly(1)
    n, shift = 0, 0
    for _ in range(4):
        b = (await reader.readexactly(1))[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    else:
        raise MqttError("bad remaining length")
    if n > MAX_PACKET:
        raise MqttError("packet of %d bytes" % n)
    body = await reader.readexactly(n) if n else b""
    return head[0], body


class Subscriber:
    def __init__(self, host, port, client_id, topic, on_message, keepalive_s=60, username=None, password=None):
        self.host, self.port, self.client_id, self.topic = host, port, client_id, topic
        self.on_message, self.keepalive_s = on_message, keepalive_s
        self.username, self.password = username, password
        self.connected = False
        self.sessions = 0                 # connections that got as far as subscribing
        self.last_error = None

    async def session(self):
        """One connection: until it breaks (raises)."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 10)
        try:
            writer.write(connect_packet(self.client_id, self.keepalive_s, self.username, self.password))
            await writer.drain()
            kind, body = await asyncio.wait_for(_read_packet(reader), 10)
            if kind & 0xF0 != CONNACK or len(body) != 2 or body[1] != 0:
                raise MqttError("connection refused (CONNACK %s)" % (body[1:2].hex() if body else "missing"))
            writer.write(subscribe_packet(1, self.topic))
            await writer.drain()
            self.connected = True
            self.sessions += 1
            while True:
                try:
                    kind, body = await asyncio.wait_for(_read_packet(reader), self.keepalive_s / 2)
                except asyncio.TimeoutError:
                    writer.write(bytes([PINGREQ, 0]))
                    await writer.drain()
                    continue
                t = kind & 0xF0
                if t == PUBLISH:
                    qos = (kind >> 1) & 3
                    if len(body) < 2:
                        raise MqttError("short PUBLISH")
                    tl = struct.unpack(">H", body[:2])[0]
                    topic = body[2:2 + tl].decode()
                    rest = body[2 + tl:]
                    if qos:                       # acknowledge what the broker sent at QoS 1
                        writer.write(bytes([PUBACK, 2]) + rest[:2])
                        await writer.drain()
                        rest = rest[2:]
                    self.on_message(topic, bytes(rest))
                elif t not in (SUBACK, PINGRESP):
                    raise MqttError("unexpected packet 0x%02x" % kind)
        finally:
            self.connected = False
            try:
                writer.close()
                await writer.wait_closed()
            except Exception:
                pass

    async def run(self):
        backoff = 2
        while True:
            before = self.sessions
            try:
                await self.session()
            except Exception as e:              # broker gone, refused, broken: try again later
                self.last_error = "%s: %s" % (type(e).__name__, e)
            if self.sessions != before:         # it had worked: the broker restarted, come back soon
                backoff = 2
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 300)
