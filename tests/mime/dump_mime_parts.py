#!/usr/bin/env python3
"""Parse a MIME message with Python's email package and print what a mail
reader would display, so the tests check our builders against an independent parser.

Usage: dump_mime_parts.py MESSAGE_FILE OUTPUT_DIR

Prints, one item per line:
  defects N                      parser defects summed over all parts
  header NAME: VALUE             each top-level field, decoded and unfolded
  part N TYPE CTE FILENAME       each part, depth-first from 0; "-" when absent
  param N NAME=VALUE             each Content-Type parameter of part N
Writes the decoded body of each non-multipart part N to OUTPUT_DIR/part-N.bin.
"""
import email
import email.policy
import email.utils
import pathlib
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dump_mime_parts.py MESSAGE_FILE OUTPUT_DIR")
    sys.stdout.reconfigure(encoding="utf-8")
    data = pathlib.Path(sys.argv[1]).read_bytes()
    output_dir = pathlib.Path(sys.argv[2])
    message = email.message_from_bytes(data, policy=email.policy.default)

    print(f"defects {sum(len(part.defects) for part in message.walk())}")
    for name, value in message.items():
        print(f"header {name}: {value}")

    for index, part in enumerate(message.walk()):
        transfer_encoding = part.get("Content-Transfer-Encoding", "-")
        filename = part.get_filename() or "-"
        print(f"part {index} {part.get_content_type()} {transfer_encoding} {filename}")
        for name, value in part.get_params()[1:]:
            print(f"param {index} {name}={email.utils.collapse_rfc2231_value(value)}")
        if not part.is_multipart():
            (output_dir / f"part-{index}.bin").write_bytes(part.get_payload(decode=True))


if __name__ == "__main__":
    main()
