// zongji_count.js: the peer reference for bench/run's end-to-end step. @vlasky/zongji (Node)
// reads a MariaDB/MySQL server's binlog over the replication protocol and decodes every row;
// this counts the rows of write/update/delete events until it has seen N, then prints one
// line of JSON and exits (process.exit: zongji's stop() can hang while the stream is busy).
//
//   node bench/zongji_count.js --port P --rows N --file mysql-bin.000002 [--pos 4]
//        [--host 127.0.0.1] [--user root] [--password ''] [--timeout 600] [--schema bench]
//
// Output: {"rows":N,"elapsed_s":S,"first_row_s":F} where elapsed_s runs from just before
// start() (connect included, as bintail's own figure includes its start-up) to the N-th row.
'use strict';

const path = require('path');

function args() {
  const a = { host: '127.0.0.1', user: 'root', password: '', pos: 4, timeout: 600, schema: null };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (!(k in a) && !['port', 'rows', 'file'].includes(k)) {
      console.error(`zongji_count: unknown option --${k}`);
      process.exit(2);
    }
    a[k] = v[i + 1];
  }
  for (const k of ['port', 'rows', 'file']) {
    if (a[k] === undefined) {
      console.error(`zongji_count: --${k} is required`);
      process.exit(2);
    }
  }
  a.port = Number(a.port);
  a.rows = Number(a.rows);
  a.pos = Number(a.pos);
  a.timeout = Number(a.timeout);
  return a;
}

async function main() {
  const a = args();
  const { default: ZongJi } = await import(path.join(__dirname, 'node_modules/@vlasky/zongji/index.js'));
  const zongji = new ZongJi({ host: a.host, port: a.port, user: a.user, password: a.password });
  let rows = 0;
  let firstRow = null;
  let done = false;
  const t0 = process.hrtime.bigint();
  const secs = (t) => Number(t - t0) / 1e9;
  const timer = setTimeout(() => {
    console.error(`zongji_count: timed out after ${a.timeout} s with ${rows} of ${a.rows} rows`);
    process.exit(3);
  }, a.timeout * 1000);
  zongji.on('error', (err) => {
    console.error('zongji_count: zongji error:', err && err.message ? err.message : err);
    process.exit(1);
  });
  zongji.on('binlog', (evt) => {
    if (!evt.rows || done) return;
    if (firstRow === null) firstRow = process.hrtime.bigint();
    rows += evt.rows.length;
    if (rows >= a.rows) {
      done = true;
      const t = process.hrtime.bigint();
      clearTimeout(timer);
      process.stdout.write(JSON.stringify({ rows, elapsed_s: secs(t), first_row_s: secs(firstRow) }) + '\n',
        () => process.exit(0));
    }
  });
  const opts = {
    serverId: 4000 + (process.pid % 1000),
    filename: a.file,
    position: a.pos,
    includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
  };
  if (a.schema) opts.includeSchema = { [a.schema]: true };
  zongji.start(opts);
}

main().catch((e) => {
  console.error('zongji_count:', e && e.stack ? e.stack : e);
  process.exit(1);
});
