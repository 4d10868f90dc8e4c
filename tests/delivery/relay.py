#!/usr/bin/python3
"""SMTP relay for the delivery tests: aiosmtpd on 127.0.0.1 with optional
STARTTLS, AUTH, a SIZE limit and scripted failures.

It picks a free port, writes it to --port-file once it accepts connections,
and exits by itself after --seconds. Accepted messages are stored as files in
--mail-dir. Every session event is appended as one line to --events, so a test
can count connections, QUIT commands and the MAIL parameters it received:
"connect", "tls", "ehlo", "mail ADDRESS OPTIONS", "rset", "auth MECHANISM
USER ok|failed", "data OCTETS", "server-close", "quit", "disconnect".
A TLS session closed by the relay ends with "disconnect" only once the client
replies to the relay's close_notify, so tests wait for "server-close" instead.

Recipients whose local part is "reject" get 550 5.1.1; those whose local part
is "busy" get 451 4.3.0.
"""
import argparse
import os
import socket
import ssl
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


class event_log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.ready = False

    def write(self, line):
        if not self.ready:
            return
        with self.lock, open(self.path, "a") as out:
            out.write(line + "\n")


class relay_handler:
    def __init__(self, options, events):
        self.options = options
        self.events = events
        self.mail_failures_left = options.fail_mail
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.events.write("mail %s %s" % (address, " ".join(mail_options)))
        if self.mail_failures_left > 0:
            self.mail_failures_left -= 1
            return "451 4.3.2 system busy, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "reject":
            return "550 5.1.1 mailbox unavailable"
        if local == "busy":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.events.write("data %d" % len(envelope.original_content))
        if self.options.reject_data:
            return "554 5.6.0 " + self.options.reject_data
        self.count += 1
        name = "%06d.eml" % self.count
        temporary = os.path.join(self.options.mail_dir, "." + name)
        with open(temporary, "wb") as out:
            out.write(envelope.original_content)
        os.rename(temporary, os.path.join(self.options.mail_dir, name))
        if self.options.close_after_message:
            server.loop.call_later(0.1, self.close_session, server.transport)
        return "250 2.0.0 stored as " + name

    def close_session(self, transport):
        self.events.write("server-close")
        transport.close()

    async def handle_RSET(self, server, session, envelope):
        self.events.write("rset")
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.events.write("quit")
        return "221 Bye"


class recording_smtp(SMTP):
    """aiosmtpd's SMTP server that records connections and can reject EHLO."""

    def __init__(self, handler, events, reject_ehlo, **kwargs):
        super().__init__(handler, **kwargs)
        self.events = events
        self.reject_ehlo = reject_ehlo
        self.counted = False

    def connection_made(self, transport):
        upgrading = self.transport is not None
        super().connection_made(transport)
        if upgrading:
            self.events.write("tls")
        elif self.events.ready:
            self.counted = True
            self.events.write("connect")

    def connection_lost(self, error):
        if self.counted:
            self.events.write("disconnect")
        super().connection_lost(error)

    async def smtp_EHLO(self, hostname):
        self.events.write("ehlo")
        if self.reject_ehlo:
            await self.push("502 5.5.2 EHLO not implemented")
            return
        await super().smtp_EHLO(hostname)


class relay_controller(Controller):
    def __init__(self, handler, events, reject_ehlo, **kwargs):
        self.events = events
        self.reject_ehlo = reject_ehlo
        super().__init__(handler, **kwargs)

    def factory(self):
        return recording_smtp(self.handler, self.events, self.reject_ehlo, **self.SMTP_kwargs)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--mail-dir", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--seconds", type=float, default=120.0, help="lifetime in seconds")
    parser.add_argument("--tls-cert", help="PEM certificate chain; offers STARTTLS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--auth-user", help="accepted AUTH username")
    parser.add_argument("--auth-password", help="accepted AUTH password")
    parser.add_argument("--auth-exclude", action="append", default=[], help="AUTH mechanism not to offer")
    parser.add_argument("--auth-without-tls", action="store_true", help="offer AUTH before STARTTLS")
    parser.add_argument("--size", type=int, default=0, help="SIZE limit in octets; 0 announces none")
    parser.add_argument("--fail-mail", type=int, default=0, help="answer this many MAIL commands with 451")
    parser.add_argument("--reject-data", default="", help="answer every DATA with 554 and this text")
    parser.add_argument("--close-after-message", action="store_true", help="close the session after each message")
    parser.add_argument("--reject-ehlo", action="store_true", help="answer EHLO with 502")
    return parser.parse_args()


def main():
    options = parse_options()
    os.makedirs(options.mail_dir, exist_ok=True)
    events = event_log(options.events)

    arguments = {"hostname": "127.0.0.1", "port": free_port(), "data_size_limit": options.size or None}
    if options.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.tls_cert, options.tls_key)
        arguments["tls_context"] = context
        arguments["require_starttls"] = options.require_starttls
    if options.auth_user:
        def authenticate(server, session, envelope, mechanism, auth_data):
            user = auth_data.login.decode("utf-8", "replace")
            accepted = user == options.auth_user and auth_data.password.decode("utf-8", "replace") == options.auth_password
            events.write("auth %s %s %s" % (mechanism, user, "ok" if accepted else "failed"))
            return AuthResult(success=accepted, handled=False)

        arguments["authenticator"] = authenticate
        arguments["auth_require_tls"] = not options.auth_without_tls
        arguments["auth_exclude_mechanism"] = options.auth_exclude

    controller = relay_controller(relay_handler(options, events), events, options.reject_ehlo, **arguments)
    controller.start()
    events.ready = True
    with open(options.port_file + ".tmp", "w") as out:
        out.write(str(controller.port))
    os.rename(options.port_file + ".tmp", options.port_file)
    try:
        time.sleep(options.seconds)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
