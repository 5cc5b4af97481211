"""Push: an MQTT message wakes a terminal to poll at once (the DDI poll still delivers
everything; a lost push only costs the wait until the next poll).

Topic ``smartpos/{tenant}/{controllerId}/wake``, payload ``poll``, QoS 1, not retained.  The
service publishes after the transaction that created an action for a terminal commits.  The
broker is any MQTT 3.1.1 broker (mosquitto for fleets); ``EmbeddedBroker`` (amqtt, in this
process) is the default of ``smartpos sim`` so that nothing needs installing.

    waker = Waker("mqtt://127.0.0.1:1883")        # settings.mqtt_url
    waker.wake("default", "SIM-0001")
"""
import asyncio
import logging
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("smartpos.cloud.push")


def topic(tenant, controller_id):
    return "smartpos/%s/%s/wake" % (tenant, controller_id)


def _host_port(url):
    if not url.startswith("mqtt://"):
        raise ValueError("MQTT URL %r: want mqtt://host:port" % url)
    host, _, port = url[7:].rstrip("/").partition(":")
    return host or "127.0.0.1", int(port or 1883)


class Waker:
    """Publishes wake messages through a broker; reconnects by itself (paho's loop thread)."""

    def __init__(self, url, client_id="smartpos-cloud"):
        import os
        import paho.mqtt.client as mqtt
        self.url = url
        self.host, self.port = _host_port(url)
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="%s-%d" % (client_id, os.getpid()))
        self._client.reconnect_delay_set(1, 30)
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        self.sent = 0

    def wake(self, tenant, controller_id):
        info = self._client.publish(topic(tenant, controller_id), b"poll", qos=1)
        self.sent += 1
        return info

    def close(self):
        self._client.loop_stop()
        self._client.disconnect()


class EmbeddedBroker:
    """An MQTT broker in this process (its own thread and event loop), anonymous, on 127.0.0.1."""

    def __init__(self, host="127.0.0.1", port=1883):
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._broker = None
        self._ready = threading.Event()
        self._error = None

    @property
    def url(self):
        return "mqtt://%s:%d" % (self.host, self.port)

    def start(self):
        if self.port == 0:
            import socket
            s = socket.socket()
            s.bind((self.host, 0))
            self.port = s.getsockname()[1]
            s.close()
        threading.Thread(target=self._run, name="mqtt-broker", daemon=True).start()
        if not self._ready.wait(30) or self._error:
            raise RuntimeError("embedded MQTT broker did not start: %s" % self._error)
        return self

    def _run(self):
        from amqtt.broker import Broker
        asyncio.set_event_loop(self._loop)
        cfg = {"listeners": {"default": {"type": "tcp", "bind": "%s:%d" % (self.host, self.port)}},
               "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}
        try:
            self._broker = Broker(cfg, loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except Exception as e:              # port in use, ...
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def stop(self):
        if self._broker is not None:
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                fut.result(10)
            except Exception:
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)


def wake_after_commit(session, tenant, controller_id):
    """Ask for a wake message for this terminal once `session`'s transaction commits."""
    session.info.setdefault("wake", set()).add((tenant, controller_id))


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    pending = session.info.pop("wake", None)
    waker = session.info.get("waker")
    if not pending or waker is None:
        return
    for tenant, cid in pending:
        try:
            waker.wake(tenant, cid)
        except Exception as e:              # the poll still delivers: never fail the request for it
            log.warning("wake for %s/%s not sent: %s", tenant, cid, e)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop("wake", None)
