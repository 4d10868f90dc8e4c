#!/usr/bin/env python3
"""SMTP relay for tests: aiosmtpd on 127.0.0.1 that stores each message it
accepts as a file in a folder.

Usage: smtp_sink.py PORT_FILE MAIL_DIR [SECONDS [PORT]]

It listens on PORT, or on a free port when PORT is 0 or missing, writes the
port to PORT_FILE once it accepts connections, and exits by itself after
SECONDS (default 120). Recipients whose local part is "reject" get 550 5.1.1;
those whose local part is "busy" get 451 4.3.0. Each message NAME.eml comes
with NAME.eml.rcpt (one recipient a line) and NAME.eml.from (the MAIL FROM
address as aiosmtpd reports it, "<>" for the null sender).
"""
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class store_handler:
    def __init__(self, mail_dir):
        self.mail_dir = mail_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "reject":
            return "550 5.1.1 mailbox unavailable"
        if local == "busy":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = "%06d.eml" % self.count
        temporary = os.path.join(self.mail_dir, "." + name)
        with open(temporary, "wb") as out:
            out.write(envelope.original_content)
        with open(os.path.join(self.mail_dir, name + ".rcpt"), "w") as out:
            out.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(os.path.join(self.mail_dir, name + ".from"), "w") as out:
            out.write(envelope.mail_from or "")
        os.rename(temporary, os.path.join(self.mail_dir, name))
        return "250 2.0.0 stored as " + name


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    port_file, mail_dir = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    os.makedirs(mail_dir, exist_ok=True)

    controller = Controller(store_handler(mail_dir), hostname="127.0.0.1", port=port or free_port())
    controller.start()
    with open(port_file + ".tmp", "w") as out:
        out.write(str(controller.port))
    os.rename(port_file + ".tmp", port_file)
    try:
        time.sleep(seconds)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
