// Proof of work for a tap (see ratingsvc/proofofwork.py): find s such that
// SHA-256(challenge + ":" + s) starts with `bits` zero bits. Plain ES5 SHA-256, so it runs
// in old WebViews without crypto.subtle (which also needs a secure context).
(function (root) {
  "use strict";
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
  var W = new Array(64);

  // The first 32 bits of SHA-256 of an ASCII string.
  function sha256First(msg) {
    var l = msg.length, n = ((l + 8) >> 6) + 1 << 4, w = [], i, j;
    for (i = 0; i < n; i++) w[i] = 0;
    for (i = 0; i < l; i++) w[i >> 2] |= msg.charCodeAt(i) << (24 - (i & 3) * 8);
    w[l >> 2] |= 0x80 << (24 - (l & 3) * 8);
    w[n - 1] = l * 8;
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (j = 0; j < n; j += 16) {
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        if (i < 16) {
          W[i] = w[j + i] | 0;
        } else {
          var x = W[i - 15], y = W[i - 2];
          W[i] = (((x >>> 7 | x << 25) ^ (x >>> 18 | x << 14) ^ (x >>> 3)) + W[i - 16] +
                  ((y >>> 17 | y << 15) ^ (y >>> 19 | y << 13) ^ (y >>> 10)) + W[i - 7]) | 0;
        }
        var t1 = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
                  ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var t2 = (((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
                  ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    return H[0] >>> 0;
  }

  function zeroBits(word) {
    var n = 0;
    while (n < 32 && !(word & (0x80000000 >>> n))) n++;
    return n;
  }

  // The smallest s ("0", "1", ...) that does it. bits <= 32.
  function solve(challenge, bits) {
    for (var s = 0; ; s++) {
      if (zeroBits(sha256First(challenge + ":" + s)) >= bits) return String(s);
    }
  }

  var api = {solve: solve, sha256First: sha256First};
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.ratingsvcPow = api;
})(this);
