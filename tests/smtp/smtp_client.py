#!/usr/bin/env python3
"""SMTP client scenarios for the reception server tests, built on smtplib.

Usage: smtp_client.py SCENARIO PORT

Each scenario talks to 127.0.0.1:PORT and prints what it saw, one item per
line: "REPLY <code> <text>" for a server reply, "REFUSED <address> <code>
<text>" for a recipient smtplib reports as refused, "ERROR <class> ..." for an
smtplib exception, "CLOSED" when the server ended the connection, "SENT" when
a message was sent. The C++ test checks these lines; the script exits 0 unless
the scenario itself could not run.
"""
import smtplib
import socket
import sys

HOST = "127.0.0.1"
SENDER = "alice@client.test"


def reply(code, message):
    text = message.decode("ascii", "replace") if isinstance(message, bytes) else str(message)
    print("REPLY %d %s" % (code, text.replace("\n", " | ")), flush=True)


def connect(port):
    client = smtplib.SMTP(HOST, port, local_hostname="client.test", timeout=20)
    return client


def expect_closed(client):
    """Prints CLOSED once the server has closed the connection."""
    client.sock.settimeout(20)
    try:
        data = client.sock.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    if data:
        print("DATA %r" % data[:200], flush=True)
    else:
        print("CLOSED", flush=True)


def raw_command(client, data):
    """Sends raw bytes and prints the one reply they get."""
    client.sock.sendall(data)
    reply(*client.getreply())


def start_data(client, recipients=("bob@mx.test",)):
    client.ehlo()
    reply(*client.mail(SENDER))
    for recipient in recipients:
        reply(*client.rcpt(recipient))
    client.putcmd("DATA")
    reply(*client.getreply())


def send(port):
    """An ordinary message with lines that need dot-stuffing, and one
    recipient the handler refuses."""
    client = connect(port)
    code, features = client.ehlo()
    reply(code, features)
    message = (
        "From: alice@client.test\r\nTo: bob@mx.test\r\nSubject: dots\r\n\r\n"
        ".\r\n..two dots\r\n.leading dot\r\n.\r\nlast line\r\n"
    )
    refused = client.sendmail(SENDER, ["bob@mx.test", "unknown@mx.test", "carol@mx.test"], message)
    for address, (code, text) in sorted(refused.items()):
        print("REFUSED %s %d %s" % (address, code, text.decode()), flush=True)
    print("SENT", flush=True)
    reply(*client.quit())


def bare_lf(port):
    """A command and a message with bare LF line ends."""
    client = connect(port)
    client.ehlo()
    raw_command(client, b"NOOP\n")
    start_data(client)
    raw_command(client, b"Subject: bare\r\n\r\nline one\nline two\r\n.\r\n")
    reply(*client.noop())
    reply(*client.quit())


def long_line(port):
    """A 10,000-octet command line, then a message with a 10,000-octet line,
    then an ordinary message in the same session."""
    client = connect(port)
    client.ehlo()
    raw_command(client, b"NOOP " + b"x" * 10000 + b"\r\n")
    reply(*client.noop())
    start_data(client)
    raw_command(client, b"Subject: long\r\n\r\n" + b"y" * 10000 + b"\r\nend\r\n.\r\n")
    client.sendmail(SENDER, ["bob@mx.test"], "Subject: after\r\n\r\nstill usable\r\n")
    print("SENT", flush=True)
    reply(*client.quit())


def recipients(port):
    """Five recipients to a server that takes three per message."""
    client = connect(port)
    addresses = ["r%d@mx.test" % i for i in range(1, 6)]
    refused = client.sendmail(SENDER, addresses, "Subject: many\r\n\r\nhello\r\n")
    for address, (code, text) in sorted(refused.items()):
        print("REFUSED %s %d %s" % (address, code, text.decode()), flush=True)
    print("SENT", flush=True)
    reply(*client.quit())


def size(port):
    """A message over the size limit: first announced with SIZE= (smtplib
    does that by itself), then without SIZE=, sent in full."""
    client = connect(port)
    client.ehlo()
    print("SIZE-LIMIT %s" % client.esmtp_features.get("size"), flush=True)
    limit = int(client.esmtp_features["size"])
    body = ("z" * 70 + "\r\n") * (limit // 72 + 10)
    try:
        client.sendmail(SENDER, ["bob@mx.test"], "Subject: big\r\n\r\n" + body)
    except smtplib.SMTPSenderRefused as error:
        print("ERROR SMTPSenderRefused %d %s" % (error.smtp_code, error.smtp_error.decode()), flush=True)
    reply(*client.mail(SENDER))
    reply(*client.rcpt("bob@mx.test"))
    reply(*client.data("Subject: big\r\n\r\n" + body))
    reply(*client.noop())
    reply(*client.quit())


def pipelining_helo(port):
    """Pipelined commands from a client that used HELO, not EHLO."""
    client = connect(port)
    reply(*client.helo())
    raw_command(client, b"MAIL FROM:<alice@client.test>\r\nRCPT TO:<bob@mx.test>\r\n")
    expect_closed(client)


def stop_mid_data(port):
    """A client that stops in the middle of the message data."""
    client = connect(port)
    start_data(client)
    client.sock.sendall(b"Subject: partial\r\n\r\nhalf a mess")
    reply(*client.getreply())
    expect_closed(client)


def connect_only(port):
    """Connects and quits; shows the greeting or the refusal."""
    try:
        client = connect(port)
    except smtplib.SMTPConnectError as error:
        print("ERROR SMTPConnectError %d %s" % (error.smtp_code, error.smtp_error.decode()), flush=True)
        return
    reply(*client.noop())
    reply(*client.quit())


def starttls_garbage(port):
    """STARTTLS, then bytes that are no TLS handshake."""
    client = connect(port)
    code, features = client.ehlo()
    print("STARTTLS-OFFERED %s" % client.has_extn("starttls"), flush=True)
    client.putcmd("STARTTLS")
    reply(*client.getreply())
    client.sock.sendall(b"MAIL FROM:<evil@client.test>\r\nRCPT TO:<bob@mx.test>\r\n")
    expect_closed(client)


def starttls_pipelined(port):
    """STARTTLS with plaintext commands in the same packet (CVE-2011-0411)."""
    client = connect(port)
    client.ehlo()
    raw_command(client, b"STARTTLS\r\nMAIL FROM:<evil@client.test>\r\n")
    expect_closed(client)


def starttls_real(port):
    """A real TLS handshake against a hook that cannot do TLS."""
    import ssl

    client = connect(port)
    client.ehlo()
    try:
        client.starttls(context=ssl._create_unverified_context())
        print("TLS-STARTED", flush=True)
    except (ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError, OSError) as error:
        print("ERROR %s %s" % (type(error).__name__, error), flush=True)


def fake_tls(port):
    """STARTTLS with the test's stand-in handshake, then a message."""
    client = connect(port)
    client.ehlo()
    print("STARTTLS-OFFERED %s" % client.has_extn("starttls"), flush=True)
    client.putcmd("STARTTLS")
    reply(*client.getreply())
    client.sock.sendall(b"FAKE-TLS-HELLO\r\n")
    reply(*client.mail(SENDER))  # EHLO is forgotten after STARTTLS
    client.ehlo_resp = None
    client.esmtp_features = {}
    client.ehlo()
    print("STARTTLS-OFFERED %s" % client.has_extn("starttls"), flush=True)
    client.sendmail(SENDER, ["bob@mx.test"], "Subject: over tls\r\n\r\nsecret\r\n")
    print("SENT", flush=True)
    reply(*client.quit())


def early_talker(port):
    """A client that speaks before the greeting."""
    with socket.create_connection((HOST, port), timeout=20) as sock:
        sock.sendall(b"EHLO client.test\r\n")
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        for line in data.decode("ascii", "replace").splitlines():
            print("LINE %s" % line, flush=True)
        print("CLOSED", flush=True)


SCENARIOS = {
    "send": send,
    "bare-lf": bare_lf,
    "long-line": long_line,
    "recipients": recipients,
    "size": size,
    "pipelining-helo": pipelining_helo,
    "stop-mid-data": stop_mid_data,
    "connect": connect_only,
    "starttls-garbage": starttls_garbage,
    "starttls-pipelined": starttls_pipelined,
    "starttls-real": starttls_real,
    "fake-tls": fake_tls,
    "early-talker": early_talker,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SCENARIOS:
        sys.stderr.write("usage: smtp_client.py {%s} PORT\n" % "|".join(SCENARIOS))
        return 2
    try:
        SCENARIOS[sys.argv[1]](int(sys.argv[2]))
    except smtplib.SMTPException as error:
        print("ERROR %s %s" % (type(error).__name__, error), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
