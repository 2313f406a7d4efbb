import sys, zlib, glob, os
d = sys.argv[1]
inp = open(f"{d}/input.bin", "rb").read()
inlens = [int(x) for x in open(f"{d}/input.lens").read().split()]
frames, p = [], 0
for n in inlens:
    frames.append(inp[p:p+n]); p += n
assert p == len(inp)
ok_all = True
for f in sorted(glob.glob(f"{d}/*.out")):
    out = open(f, "rb").read()
    lens = [int(x) for x in open(f[:-4] + ".lens").read().split()]
    assert sum(lens) == len(out) and len(lens) == len(frames)
    # 1) whole concatenation through one decompressobj
    whole = zlib.decompressobj().decompress(out)
    ok_whole = whole == inp
    # 2) chunk by chunk, as a client does: each chunk ends 00 00 ff ff and yields exactly its frame
    dobj, q, ok_chunks = zlib.decompressobj(), 0, True
    for n, fr in zip(lens, frames):
        ch = out[q:q+n]; q += n
        if ch[-4:] != b"\x00\x00\xff\xff" or dobj.decompress(ch) != fr:
            ok_chunks = False; break
    hdr = out[:2].hex()
    print(f"PYVERIFY {os.path.basename(f)}: zlib header {hdr}, {len(frames)} chunks, {len(out)} B -> {len(whole)} B, whole==inputs: {ok_whole}, per-chunk exact + 0000ffff: {ok_chunks}")
    ok_all &= ok_whole and ok_chunks
print("PYVERIFY ALL OK" if ok_all else "PYVERIFY FAILED")
sys.exit(0 if ok_all else 1)
