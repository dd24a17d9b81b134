// The publish loop every throughput client runs (browser pages, the workerd worker): n sends, at
// most `limit` unacknowledged; `send(i, ack, fail)` starts send i and calls `ack()` on its PUBACK.
// Resolves on the n-th PUBACK.
export function windowed(n, limit, send) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const ack = () => {
      acked += 1;
      if (acked === n) resolve();
      else if (sent < n) send(sent++, ack, reject);
    };
    while (sent < Math.min(limit, n)) send(sent++, ack, reject);
  });
}
