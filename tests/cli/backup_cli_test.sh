#!/usr/bin/env bash
# `quant lake backup | restore | backups` end to end: the lake built from
# ../shared/data backed up to a directory and to a real S3-compatible server
# (s3rver 3.7.1 on loopback, every request's Signature V4 recomputed by
# tests/s3/s3_server.js), restored byte for byte; incremental runs, a kill -9
# mid-upload and its resume, a corrupt object, bad credentials.
# Without s3rver (scripts/fetch_s3rver.sh installs it) the S3 part skips —
# except under CI, where it fails.
source "$(dirname "$0")/lib.sh"
LAKE="$WORK/lake"
have_data || { finish; exit $?; }

# Every lake file a backup holds: names starting with '.' (lock, caches,
# temporaries) are not lake data.
lake_files() { (cd "$1" && find . -type f ! -path '*/.*' | sort); }
same_tree() {  # a b message: the same lake files, byte for byte
  if [[ "$(lake_files "$1")" != "$(lake_files "$2")" ]]; then bad "$3: file lists differ"; return; fi
  local f
  while read -r f; do cmp -s "$1/$f" "$2/$f" || { bad "$3: $f differs"; return; }; done < <(lake_files "$1")
  ok "$3"
}
tree_sum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum); }

echo "== the lake from ../shared/data"
q ingest --lake "$LAKE" -f mt5-bars -s WIN -q "$DATA/b3/WIN_N_M1_2020-11_2021-03.csv.gz" >/dev/null
q ingest --lake "$LAKE" -f trades -s WIN -q "$DATA/b3/WIN_trades_2021-06-15.csv.gz" >/dev/null
q ingest --lake "$LAKE" -f histdata -s EURUSD -q "$DATA"/fx/DAT_ASCII_EURUSD_M1_2017*.csv.gz >/dev/null
q ingest --lake "$LAKE" -f csv -s IDX -q "$DATA/backtrader/2006-01-02-volume-min-001.txt.gz" >/dev/null
NFILES=$(lake_files "$LAKE" | wc -l)
LAKE_BYTES=$(du -sb --exclude='.*' "$LAKE" | cut -f1)
echo "  lake: $NFILES files, $LAKE_BYTES bytes"
[[ $NFILES -ge 10 ]] && ok "lake has $NFILES files" || bad "lake has only $NFILES files"
sleep 2.1  # past the hash cache's 2 s window (files written this recently are always hashed again)

echo "== directory destination"
DS="$WORK/dirstore"
out=$(q --lake "$LAKE" lake backup --to "$DS" 2>&1); st=$?
expect_status $st 0 "backup to a directory"
expect_contains "$out" "uploaded $NFILES files" "every file uploaded once"
expect_eq "$(ls "$DS/manifests" | wc -l)" 1 "one manifest"
out=$(q --lake "$LAKE" lake restore --from "$DS" --to "$WORK/dir_restored" 2>&1); st=$?
expect_status $st 0 "restore from a directory"
same_tree "$LAKE" "$WORK/dir_restored" "directory round trip is byte-identical"
out=$(q --lake "$LAKE" lake backup --to "$DS" 2>&1)
expect_contains "$out" "uploaded 0 files" "second backup uploads nothing"
expect_contains "$out" "skipped $NFILES unchanged" "second backup skips every file"
expect_contains "$out" "no new manifest" "an unchanged lake adds no manifest"
out=$(q --lake "$LAKE" lake restore --from "$DS" --to "$LAKE" 2>&1); st=$?
expect_status $st 1 "restore into a non-empty directory is refused"
expect_contains "$out" "not empty" "the refusal says why"
expect_contains "$out" "--force" "the refusal names --force"

S3DIR="${QUANT_S3RVER_DIR:-$ROOT/third_party/s3rver}"
if [[ ! -f $S3DIR/node_modules/s3rver/package.json ]] || ! command -v node >/dev/null; then
  if [[ -n ${CI:-} ]]; then bad "s3rver is not installed in $S3DIR, and CI always has it (scripts/fetch_s3rver.sh)"; finish; exit 1; fi
  echo "SKIP S3 checks: s3rver is not installed in $S3DIR (scripts/fetch_s3rver.sh installs it)"
  finish || exit 1
  exit 77
fi

echo "== S3 destination (s3rver on loopback)"
export S3_TEST_ACCESS_KEY=AKIAQUANTTEST S3_TEST_SECRET_KEY='quant/test+Secret=1'
export AWS_ACCESS_KEY_ID=$S3_TEST_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_TEST_SECRET_KEY
# The bucket lives in sa-east-1: every request must be signed for it, and the
# commands below learn it from AWS_REGION (as the backup unit's env file gives it).
export S3_TEST_REGION=sa-east-1 AWS_REGION=sa-east-1
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION
mkdir -p "$WORK/s3"
# --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation tokens with
# DES, which Node 20's OpenSSL 3 only offers through the legacy provider.
node --openssl-legacy-provider "$ROOT/tests/s3/s3_server.js" "$S3DIR/node_modules" "$WORK/s3" 0 lake-backups >"$WORK/s3.out" 2>"$WORK/s3.err" &
S3_PID=$!
trap 'kill $S3_PID 2>/dev/null; wait $S3_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for ((i = 0; i < 200; i++)); do
  grep -q '^ready ' "$WORK/s3.out" 2>/dev/null && break
  sleep 0.05
done
PORT=$(awk '/^ready /{print $2}' "$WORK/s3.out")
if [[ -z $PORT ]]; then bad "s3rver did not start: $(cat "$WORK/s3.err")"; finish; exit 1; fi
EP="http://127.0.0.1:$PORT"
DEST="s3://lake-backups/prod/lake"
OBJDIR="$WORK/s3/lake-backups/prod/lake/objects"
objects() { find "$OBJDIR" -name '*._S3rver_object' 2>/dev/null | wc -l; }
manifests() { find "$WORK/s3/lake-backups/prod/lake/manifests" -name '*._S3rver_object' 2>/dev/null | wc -l; }

out=$(q --lake "$LAKE" lake backup --to "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 0 "backup to S3"
expect_contains "$out" "uploaded $NFILES files" "every file uploaded"
expect_contains "$out" "skipped 0 unchanged" "nothing skipped the first time"
expect_eq "$(objects)" "$NFILES" "one object per distinct file"
expect_eq "$(manifests)" 1 "one manifest"
FIRST=$(q lake backups --from "$DEST" --endpoint "$EP" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["backups"][0]["name"])')

out=$(q --lake "$LAKE" lake restore --from "$DEST" --endpoint "$EP" --to "$WORK/r1" 2>&1); st=$?
expect_status $st 0 "restore from S3"
expect_contains "$out" "every SHA-256 checked" "restore says the hashes were checked"
same_tree "$LAKE" "$WORK/r1" "S3 round trip is byte-identical"
for s in WIN EURUSD IDX; do
  q lake verify --lake "$WORK/r1" -s $s >/dev/null 2>&1; expect_status $? 0 "quant lake verify passes on the restored $s"
done
sql="select count(*) as n from bars_1m"
expect_eq "$(q lake query --lake "$WORK/r1" "$sql")" "$(q lake query --lake "$LAKE" "$sql")" "the restored lake holds every bar"

out=$(q --lake "$LAKE" lake backup --to "$DEST" --endpoint "$EP" 2>&1)
expect_contains "$out" "uploaded 0 files" "second S3 backup uploads nothing"
expect_contains "$out" "0 hashed, $NFILES from the cache" "unchanged files are not hashed again"
expect_eq "$(manifests)" 1 "an unchanged lake adds no manifest"

echo "== one partition changed"
{ printf 'Date,Time,Open,High,Low,Close,Tick,Volume,Spread\r\n'
  printf '2021.03.15,10:00:00,113665,113675,113605,113610,13692,42684,5\r\n'; } > "$WORK/fix.csv"
q ingest --lake "$LAKE" -f mt5-bars -s WIN --replace -q "$WORK/fix.csv" >/dev/null
before=$(objects)
out=$(q --lake "$LAKE" lake backup --to "$DEST" --endpoint "$EP" --dry-run 2>&1)
expect_contains "$out" "would upload 1 files" "dry run sees the one changed partition"
expect_eq "$(objects)" "$before" "dry run uploads nothing"
out=$(QUANT_S3_LIST_PAGE_SIZE=3 q --lake "$LAKE" lake backup --to "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 0 "backup after a change (listing in pages of 3)"
expect_contains "$out" "uploaded 1 files" "only the changed partition is uploaded"
expect_contains "$out" "1 hashed, $((NFILES - 1)) from the cache" "only the changed partition is hashed"
expect_contains "$out" "skipped $((NFILES - 1)) unchanged" "the others are skipped"
expect_eq "$(manifests)" 2 "a second manifest"
out=$(q --lake "$LAKE" lake restore --from "$DEST" --endpoint "$EP" --to "$WORK/r2/" 2>&1); st=$?
expect_status $st 0 "restore into a new directory written with a trailing slash"
same_tree "$LAKE" "$WORK/r2" "the latest backup restores the changed lake"
out=$(q --lake "$LAKE" lake restore --from "$DEST" --endpoint "$EP" --to "$WORK/r_old" --manifest "$FIRST" 2>&1); st=$?
expect_status $st 0 "restore of the older backup by --manifest"
same_tree "$WORK/r1" "$WORK/r_old" "--manifest restores the lake as it was"
out=$(q lake backups --from "$DEST" --endpoint "$EP" 2>&1)
expect_eq "$(printf '%s\n' "$out" | grep -c '^20')" 2 "quant lake backups lists both"

echo "== kill -9 mid-upload, then resume"
KDEST="s3://lake-backups/killed"
KOBJ="$WORK/s3/lake-backups/killed/objects"
kobjects() { find "$KOBJ" -name '*._S3rver_object' 2>/dev/null | wc -l; }
# s3rver writes an object's file while the body streams in, so the kill can
# leave a partial object under its key (AWS never does): count the complete ones.
kcomplete() {
  local f n=0
  for f in "$KOBJ"/*._S3rver_object; do
    [[ -f $f && $(sha256sum < "$f" | cut -c1-64) == "$(basename "$f" ._S3rver_object)" ]] && n=$((n + 1))
  done
  echo $n
}
# 300 kB/s: the lake takes seconds to upload, so the kill lands mid-way.
q --lake "$LAKE" lake backup --to "$KDEST" --endpoint "$EP" --limit-rate 300000 >/dev/null 2>&1 &
BPID=$!
for ((i = 0; i < 600; i++)); do
  [[ $(kobjects) -ge 3 ]] && break
  sleep 0.02
done
kill -9 $BPID 2>/dev/null; wait $BPID 2>/dev/null
sleep 0.3
K=$(kcomplete)
if [[ $K -ge 2 && $K -lt $NFILES ]]; then ok "killed after $K complete objects of $NFILES ($(kobjects) present)"; else bad "kill landed at $K of $NFILES objects"; fi
expect_eq "$(find "$WORK/s3/lake-backups/killed/manifests" -name '*._S3rver_object' 2>/dev/null | wc -l)" 0 \
  "no manifest after the kill"
out=$(q --lake "$LAKE" lake backup --to "$KDEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 0 "the resumed backup succeeds"
expect_contains "$out" "uploaded $((NFILES - K)) files" "the resume uploads only the $((NFILES - K)) missing objects"
out=$(q --lake "$LAKE" lake restore --from "$KDEST" --endpoint "$EP" --to "$WORK/rk" 2>&1); st=$?
expect_status $st 0 "restore of the resumed backup"
same_tree "$LAKE" "$WORK/rk" "the resumed backup restores the lake byte for byte"

echo "== a corrupt object"
victim=$(find "$OBJDIR" -name '*._S3rver_object' | sort | head -1)
sha=$(basename "$victim" ._S3rver_object)
path=$(python3 - "$WORK/r2" "$sha" <<'PY'
import hashlib, os, sys
root, sha = sys.argv[1], sys.argv[2]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if hashlib.sha256(open(p, 'rb').read()).hexdigest() == sha:
            print(os.path.relpath(p, root)); sys.exit()
PY
)
printf 'X' | dd of="$victim" bs=1 seek=100 conv=notrunc 2>/dev/null
out=$(q --lake "$LAKE" lake restore --from "$DEST" --endpoint "$EP" --to "$WORK/r3" 2>&1); st=$?
expect_status $st 1 "restore with a corrupt object fails"
expect_contains "$out" "$path" "the error names the lake file"
expect_contains "$out" "corrupt" "the error says corrupt"
[[ ! -e $WORK/r3 ]] && ok "nothing was created at the target" || bad "the target exists after a failed restore"
mkdir -p "$WORK/r4" && echo keep > "$WORK/r4/note.txt"
sum=$(tree_sum "$WORK/r4")
out=$(q --lake "$LAKE" lake restore --from "$DEST" --endpoint "$EP" --to "$WORK/r4" --force 2>&1); st=$?
expect_status $st 1 "restore --force with a corrupt object fails"
expect_eq "$(tree_sum "$WORK/r4")" "$sum" "the non-empty target is left intact"
expect_eq "$(ls -A "$WORK" | grep -c restore-)" 0 "no staging directory is left behind"

echo "== a prefix that needs encoding (space, &, +, parentheses, =, UTF-8), listed in pages of 2"
ODEST="s3://lake-backups/my lake&co+(x)=1/é"
out=$(QUANT_S3_LIST_PAGE_SIZE=2 q --lake "$LAKE" lake backup --to "$ODEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 0 "backup under an odd prefix"
out=$(QUANT_S3_LIST_PAGE_SIZE=2 q --lake "$LAKE" lake backup --to "$ODEST" --endpoint "$EP" 2>&1)
expect_contains "$out" "uploaded 0 files" "the odd prefix lists back what it holds"
out=$(q lake restore --from "$ODEST" --endpoint "$EP" --to "$WORK/ro" 2>&1); st=$?
expect_status $st 0 "restore from the odd prefix"
same_tree "$LAKE" "$WORK/ro" "the odd prefix round trip is byte-identical"

echo "== region"
out=$(AWS_REGION='' q lake backups --from "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 1 "signed for the config's region (us-east-1), the sa-east-1 bucket refuses"
expect_contains "$out" "AuthorizationHeaderMalformed" "the wrong region is named"
expect_contains "$out" "check the region" "the hint says what to check"
out=$(AWS_REGION='' AWS_DEFAULT_REGION=sa-east-1 q lake backups --from "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 0 "AWS_DEFAULT_REGION is read when AWS_REGION is not set"
out=$(AWS_REGION=us-east-1 q lake backups --from "$DEST" --endpoint "$EP" --region sa-east-1 2>&1); st=$?
expect_status $st 0 "--region wins over AWS_REGION"

echo "== bad credentials"
out=$(AWS_SECRET_ACCESS_KEY='wrong-secret' q lake backups --from "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 1 "a wrong secret fails"
expect_contains "$out" "SignatureDoesNotMatch" "a wrong secret is SignatureDoesNotMatch"
expect_contains "$out" "AWS_SECRET_ACCESS_KEY" "the hint names the variable"
[[ $out != *wrong-secret* ]] && ok "the secret is not printed" || bad "the secret appears in the output"
out=$(AWS_ACCESS_KEY_ID=AKIANOBODY q --lake "$LAKE" lake backup --to "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 1 "an unknown key fails"
expect_contains "$out" "InvalidAccessKeyId" "an unknown key is InvalidAccessKeyId"
out=$(unset AWS_ACCESS_KEY_ID; q lake backups --from "$DEST" --endpoint "$EP" 2>&1); st=$?
expect_status $st 1 "no credentials fail"
expect_contains "$out" "AWS_ACCESS_KEY_ID" "missing credentials are named"
out=$(q lake backups --from s3://no-such-bucket/x --endpoint "$EP" 2>&1); st=$?
expect_contains "$out" "NoSuchBucket" "a missing bucket is named"
out=$(q lake backups --from "$DEST" --endpoint "http://127.0.0.1:1" 2>&1); st=$?
expect_status $st 1 "an endpoint that refuses connections fails"
expect_contains "$out" "attempts" "after retries"

kill $S3_PID; wait $S3_PID 2>/dev/null
grep -q 'signatures checked' "$WORK/s3.err" && ok "s3 server: $(grep 'signatures checked' "$WORK/s3.err")" || bad "s3 server did not report"
finish
