#!/bin/sh
# Regenerates the demo documents in demo/documents from the PostScript
# sources in demo/documents/src, then checks them:
#   maintenance-report.pdf  three A4 pages of text, made by ps2pdf
#   fax-page.tif            one TIFF-F page: bilevel, 1728 pixels wide,
#                           204x196 dpi, CCITT Group 3 (1D, EOL padding),
#                           made by Ghostscript's tiffg3 device
# Needs ghostscript, poppler-utils (pdfinfo) and libtiff-tools (tiffinfo,
# tiffset). Reruns give the same bytes with Ghostscript 10.00 and libtiff 4.5,
# because dates are fixed and the PDF ID and XMP metadata are left out.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
source_dir="$root/demo/documents/src"
output_dir="$root/demo/documents"
pdf="$output_dir/maintenance-report.pdf"
tiff="$output_dir/fax-page.tif"
max_bytes=204800  # 200 KiB, the size limit for documents kept in the repository

# Ghostscript dates its output at 2 October 2026 00:00:00 UTC, the report date.
SOURCE_DATE_EPOCH=1790985600
export SOURCE_DATE_EPOCH

fail() {
  echo "make-demo-documents: $*" >&2
  exit 1
}

ps2pdf -dPDFSETTINGS=/prepress -dOmitID=true -dOmitXMP=true \
  "$source_dir/maintenance-report.ps" "$pdf"

# 1728 x 2292 pixels at 204 x 196 dpi is the fax page width by an A4 length.
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=tiffg3 -r204x196 -g1728x2292 \
  -sOutputFile="$rendered" "$source_dir/fax-page.ps"
# Set page 1 of 1, because Ghostscript writes a total of 0, and a fixed DateTime.
tiffset -s 297 0 1 "$rendered"
tiffset -s 306 "2026:10:02 00:00:00" "$rendered"
# tiffset leaves the replaced values behind in the file, so copy it afresh.
tiffcp -c g3:1d:fill "$rendered" "$tiff"

pages=$(pdfinfo "$pdf" | sed -n 's/^Pages: *//p')
[ "$pages" = 3 ] || fail "$pdf has $pages pages, expected 3"

tiff_info=$(tiffinfo "$tiff")
for expected in \
  "Image Width: 1728 " \
  "Resolution: 204, 196 pixels/inch" \
  "Bits/Sample: 1" \
  "Compression Scheme: CCITT Group 3" \
  "Page Number: 0-1"; do
  printf '%s\n' "$tiff_info" | grep -qF "$expected" || fail "$tiff lacks \"$expected\" in tiffinfo output"
done
directories=$(printf '%s\n' "$tiff_info" | grep -c '^TIFF Directory')
[ "$directories" = 1 ] || fail "$tiff has $directories pages, expected 1"

for file in "$pdf" "$tiff"; do
  size=$(wc -c < "$file")
  [ "$size" -lt "$max_bytes" ] || fail "$file is $size bytes, over the $max_bytes byte limit"
  echo "$file: $size bytes"
done
echo "$pdf: $pages pages"
echo "$tiff: 1728 pixels wide, 204x196 dpi, CCITT Group 3"
