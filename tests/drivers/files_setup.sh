#!/bin/sh
# Test data for the `parkit files` tests, written into the current directory:
#   files_good/    a set made by --make (7 reports of 1009 rows) with its manifest
#   files_bad/     a small made set plus one file per kind of failure, and where it must be found
#   files_quirks/  CSV that is legal but unusual (BOM, CRLF, quotes, a line break inside a field,
#                  no final newline), and an error on a line after a multi-line field
#   files_empty/   no files at all
# usage: files_setup.sh PARKIT
set -eu
P=$1
rm -rf files_good files_bad files_quirks files_empty
"$P" files --make files_good --count 7 --rows 1009 --seed 5 >/dev/null
"$P" files --make files_bad --count 3 --rows 101 >/dev/null
printf 'a,b\n1,2\n3,x4\n5,6\n' >files_bad/bad_number.csv   # line 3, column 2
printf 'a,b,c\n1,2,3\n4,5\n' >files_bad/ragged.csv          # line 3, column 3 missing
printf 'name,v\n"ok",1\nbad\377,3\n' >files_bad/utf8.csv    # line 3, column 1
ln -s nowhere files_bad/dangling.csv                         # cannot be opened (tests run as root:
mkdir files_bad/dir.csv                                      # chmod 000 would not stop a read)
mkdir files_quirks files_empty
printf '\357\273\277id,"note",x\r\n1,"a, ""b""",2.5\r\n2,"multi\r\nline",-1e2\r\n3,plain,+.5' \
    >files_quirks/q.csv
printf 'a,b\n"line 2\nline 3",1\nz,x\n' >files_quirks/lines.csv # the bad row starts on line 4
