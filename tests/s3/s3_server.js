// A local S3 for the backup tests: s3rver 3.7.1 (pinned in package-lock.json,
// installed by scripts/fetch_npm.sh into third_party/s3rver) with one bucket,
// plus a check of every request's AWS Signature V4.
//
// s3rver 3.7.1 itself only checks that the access key exists: its V4 branch
// accepts any signature ("Signature version 4 calculation is unimplemented",
// lib/middleware/authentication.js). So this wrapper recomputes each
// signature from the request as received, independently of the C++ signer,
// and answers SignatureDoesNotMatch (403) like AWS when it differs.
//
// usage: node s3_server.js MODULES_DIR DATA_DIR PORT BUCKET
// env: S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY; S3_TEST_REGION (optional: the
// bucket's region, which a request must be signed for, as AWS checks).
// Prints "ready PORT" once listening.
'use strict';
const crypto = require('crypto');
const path = require('path');
const [modules, dir, port, bucket] = process.argv.slice(2);
const S3rver = require(path.join(modules, 's3rver'));
const S3Error = require(path.join(modules, 's3rver/lib/models/error'));
const { DUMMY_ACCOUNT } = require(path.join(modules, 's3rver/lib/models/account'));

const accessKey = process.env.S3_TEST_ACCESS_KEY;
const secretKey = process.env.S3_TEST_SECRET_KEY;
const bucketRegion = process.env.S3_TEST_REGION || '';
DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);

const hmac = (key, text) => crypto.createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');
// RFC 3986 unreserved kept, everything else %XX: what SigV4 asks for.
const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

let checked = 0;
async function verifySignature(ctx, next) {
  const auth = ctx.get('authorization');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new S3Error('AccessDenied', 'This test server only accepts Signature V4 in the Authorization header');
  const [, key, date, region, signedHeaders, signature] = m;
  if (key !== accessKey) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: key });
  }
  if (bucketRegion && region !== bucketRegion) {
    throw new S3Error('AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${region}' is wrong; expecting '${bucketRegion}'`,
      { Region: bucketRegion });
  }
  const query = (ctx.querystring ? ctx.querystring.split('&') : [])
    .map((kv) => {
      const at = kv.indexOf('=');
      const k = decodeURIComponent(at < 0 ? kv : kv.slice(0, at));
      const v = at < 0 ? '' : decodeURIComponent(kv.slice(at + 1).replace(/\+/g, '%20'));
      return [encode(k), encode(v)];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => k + '=' + v)
    .join('&');
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!names.includes(required)) throw new S3Error('AccessDenied', `${required} must be signed`);
  }
  const headers = names.map((n) => n + ':' + String(ctx.get(n)).trim().replace(/\s+/g, ' ') + '\n').join('');
  const amzDate = ctx.get('x-amz-date');
  const canonical = [ctx.method, ctx.path, query, headers, signedHeaders, ctx.get('x-amz-content-sha256')].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let k = hmac('AWS4' + secretKey, date);
  k = hmac(hmac(hmac(k, region), 's3'), 'aws4_request');
  const expected = hmac(k, toSign).toString('hex');
  if (expected !== signature) {
    throw new S3Error('SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { StringToSign: toSign, CanonicalRequest: canonical });
  }
  checked += 1;
  return next();
}

const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
// Before the router (the last middleware), after the XML rendering of errors.
server.middleware.splice(server.middleware.length - 1, 0, verifySignature);
server.run((err, { port: bound } = {}) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(`ready ${bound}`);
});
process.on('SIGTERM', () => {
  console.error(`s3 test server: ${checked} signatures checked`);
  server.close(() => process.exit(0));
});
