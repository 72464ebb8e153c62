"""A man in the middle for the AMQP name test: TLS with another lab certificate, bytes forwarded to the real broker.

Its certificate chains to the lab CA the clients trust, but names another host. A client that checks the broker's
name refuses it during the handshake; one that checks only the chain completes the handshake, and its AMQP login
(with its password) passes through here to the broker. Each line it prints: one client that got through the handshake.
"""
import argparse
import socket
import ssl
import sys
import threading


def pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.close()
            except OSError:
                pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--upstream", required=True, help="the real broker, HOST:PORT")
    parser.add_argument("--listen", default="0.0.0.0:5671")
    args = parser.parse_args()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(args.cert, args.key)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    host, port = args.listen.rsplit(":", 1)
    up_host, up_port = args.upstream.rsplit(":", 1)
    listener = socket.create_server((host, int(port)), reuse_port=True)
    while True:
        raw, peer = listener.accept()
        try:
            downstream = server.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as err:
            print(f"refused by {peer[0]}: {err}", file=sys.stderr, flush=True)
            raw.close()
            continue
        print(f"handshake completed with {peer[0]}", flush=True)
        upstream = client.wrap_socket(socket.create_connection((up_host, int(up_port))))
        threading.Thread(target=pump, args=(downstream, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, downstream), daemon=True).start()


if __name__ == "__main__":
    main()
