"""The one broker client's failures, each a BrokerError of one vocabulary with a one-line reason: real sockets on
loopback where a socket is enough, py-amqp's own exceptions where only a broker could send them (the rabbitmq
scenario meets those on a real RabbitMQ)."""
import datetime
import socket
import ssl
import threading

import amqp.exceptions
import kombu.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.esg.pulsar_network.plugins.module_utils import broker

URL = "pyamqp://site_a:very-secret-pw@mq.example.org:5671//pulsar/site_a?ssl=1"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(handle):
    """A loopback server that hands each connection to HANDLE (the client retries once); returns the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def run():
        with listener:
            for _attempt in range(4):
                conn, _peer = listener.accept()
                with conn:
                    handle(conn)

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return tmp_path / "cert.pem", tmp_path / "key.pem"


def failure_of(url, **kwargs):
    with pytest.raises(broker.BrokerError) as caught:
        broker.queue_figures(url, ["pulsar_production__setup"], timeout=3, **kwargs)
    assert "very-secret-pw" not in str(caught.value) and "\n" not in str(caught.value)
    return caught.value.kind, str(caught.value)


def test_nothing_listening_is_unreachable():
    port = free_port()
    url = f"pyamqp://site_a:very-secret-pw@127.0.0.1:{port}//pulsar/site_a"
    assert failure_of(url) == ("unreachable", f"broker 127.0.0.1:{port} is unreachable: Connection refused")


def test_a_peer_that_hangs_up_at_once_hints_at_tls():
    port = serve(lambda conn: conn.recv(8))
    kind, reason = failure_of(f"pyamqp://site_a:very-secret-pw@127.0.0.1:{port}//pulsar/site_a")
    assert kind == "unreachable"
    assert reason == f"broker 127.0.0.1:{port} closed the connection during the handshake: is this a TLS port? use amqps:// or ?ssl=1"


def test_an_untrusted_certificate_fails_tls(tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def handshake(conn):
        try:
            context.wrap_socket(conn, server_side=True).recv(8)
        except (ssl.SSLError, OSError):
            pass

    port = serve(handshake)
    kind, reason = failure_of(f"amqps://site_a:very-secret-pw@127.0.0.1:{port}/%2Fpulsar%2Fsite_a")
    assert kind == "unreachable"
    assert reason.startswith(f"TLS with broker 127.0.0.1:{port} failed: ") and "CERTIFICATE_VERIFY_FAILED" in reason


@pytest.mark.parametrize("error, kind, reason", [
    (amqp.exceptions.AccessRefused("ACCESS_REFUSED - Login was refused"), "auth_failed",
     "broker mq.example.org:5671 refused user site_a: wrong password?"),
    (amqp.exceptions.NotAllowed("NOT_ALLOWED - vhost /pulsar/site_a not found"), "auth_failed",
     "broker mq.example.org:5671 refused user site_a access to vhost /pulsar/site_a: it does not exist or the user has no permission"),
    (ConnectionRefusedError(111, "Connection refused"), "unreachable", "broker mq.example.org:5671 is unreachable: Connection refused"),
    (amqp.exceptions.InternalError("INTERNAL_ERROR"), "error", "broker mq.example.org:5671 answered: INTERNAL_ERROR"),
])
def test_what_kombu_re_raises_is_named_by_its_cause(error, kind, reason):
    wrapped = kombu.exceptions.OperationalError(str(error))
    wrapped.__cause__ = error
    failure = broker.failure(wrapped, URL)
    assert (failure.kind, str(failure)) == (kind, reason)


def test_a_broker_error_passes_through_and_a_bad_url_names_no_password():
    error = broker.BrokerError("auth_failed", "as it was")
    assert broker.failure(error, URL) is error
    assert "very-secret-pw" not in str(broker.failure(OSError("x"), "not a url very-secret-pw"))


def test_a_librabbitmq_url_is_read_with_py_amqp():
    connection = broker.connection("librabbitmq://site_a:very-secret-pw@127.0.0.1:5672//pulsar/site_a")
    assert connection.transport_cls == "pyamqp" and connection.virtual_host == "/pulsar/site_a"


class _NoQueue(Exception):
    """What the broker's 404 on a passive declare is to the code under test."""


class _StubConnection:
    """A connection whose broker has no health queue yet."""

    channel_errors = (_NoQueue,)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def ensure_connection(self, max_retries=None):
        assert max_retries == 0, "a check makes one attempt"

    def channel(self):
        return self

    def queue_declare(self, queue, passive=False, **_kwargs):
        raise _NoQueue(queue)


def test_an_endpoint_that_never_published_has_no_report(monkeypatch):
    from ansible_collections.esg.pulsar_network.plugins.module_utils import health_reports  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(broker, "connection", lambda *args, **kwargs: _StubConnection())
    assert health_reports.peek_report(URL) is None
