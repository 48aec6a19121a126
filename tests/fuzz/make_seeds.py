#!/usr/bin/env python3
"""make_seeds.py: writes the seed corpora of the fuzz harnesses
(tests/fuzz/corpus/<harness>/), small valid and invalid files. Run from
anywhere; the checkpoint seed is built from CKPT (a model.safetensors of a
tiny run: `aezoo train ae --data spiral --set hidden=4,2 --steps 1`), passed
as the first argument, or kept as it is when no argument is given."""
import gzip, json, os, struct, sys

here = os.path.dirname(os.path.abspath(__file__))

def put(harness, name, data):
    d = os.path.join(here, 'corpus', harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

def idx(t, dims, payload):
    return bytes([0, 0, t, len(dims)]) + b''.join(struct.pack('>I', d) for d in dims) + payload

def gz(b):
    return gzip.compress(b, mtime=0)

# ---- IDX (plain and gzip) and IDX behind gzip -----------------------------
imgs = idx(8, [3, 2, 4], bytes(range(0, 240, 10)))
labs = idx(8, [3], bytes([0, 2, 1]))
cases = {
    'u8_images': imgs,
    'u8_labels': labs,
    'f32_1d': idx(0x0D, [3], struct.pack('>3f', 0.5, -1.0, 2.0)),
    'f64_2d': idx(0x0E, [2, 2], struct.pack('>4d', 1, 2, 3, 4)),
    'i16_2d': idx(0x0B, [2, 3], struct.pack('>6h', -1, 2, -3, 4, -5, 6)),
    'i32_4d': idx(0x0C, [1, 1, 2, 2], struct.pack('>4i', 1, -2, 3, -4)),
    'i8_1d': idx(0x09, [4], bytes([255, 1, 128, 7])),
    'truncated': imgs[:-5],
    'trailing': imgs + b'xyz',
    'bad_magic': b'\x01\x00' + imgs[2:],
    'bad_type': bytes([0, 0, 7, 1, 0, 0, 0, 1, 9]),
    'ndim5': bytes([0, 0, 8, 5]) + b'\x00\x00\x00\x01' * 5 + b'\x00',
    'zero_dim': idx(8, [0, 4], b''),
    'huge_claim': idx(8, [0xFFFFFFFF], b''),
    'overflow': idx(0x0E, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b''),
    'empty': b'',
    'short': b'\x00\x00',
}
for k, v in cases.items():
    put('idx', k, v)
    put('idx_gz', k, v)
put('idx', 'gz_images', gz(imgs))
put('idx', 'gz_f64', gz(cases['f64_2d']))
put('idx', 'gz_huge_claim', gz(cases['huge_claim']))
put('idx', 'gz_truncated', gz(imgs)[:-12])
put('idx', 'gz_trailing', gz(imgs + b'\x00\x00'))
put('idx', 'gz_two_members', gz(imgs[:10]) + gz(imgs[10:]))

# ---- npy ------------------------------------------------------------------
def npy(descr, shape, payload, fortran=False, version=1):
    sh = '(' + ''.join('%d, ' % d for d in shape).rstrip(', ') + (',)' if len(shape) == 1 else ')')
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, 'True' if fortran else 'False', sh)
    pre = 10 if version == 1 else 12
    total = (pre + len(d) + 1 + 63) // 64 * 64
    h = d + ' ' * (total - pre - len(d) - 1) + '\n'
    lenb = struct.pack('<H', len(h)) if version == 1 else struct.pack('<I', len(h))
    return b'\x93NUMPY' + bytes([version, 0]) + lenb + h.encode() + payload

npys = {
    'u1_3d': npy('|u1', [2, 2, 3], bytes(range(12))),
    'f4_2d': npy('<f4', [3, 2], struct.pack('<6f', *range(6))),
    'f8_1d': npy('<f8', [3], struct.pack('<3d', 1.5, -2, 3)),
    'f4_fortran': npy('<f4', [2, 3], struct.pack('<6f', *range(6)), fortran=True),
    'f4_v2': npy('<f4', [2], struct.pack('<2f', 1, 2), version=2),
    'f4_4d': npy('<f4', [1, 1, 2, 2], struct.pack('<4f', 1, 2, 3, 4)),
    'scalar': npy('<f8', [], struct.pack('<d', 7)),
    'nan': npy('<f4', [2], struct.pack('<2f', float('nan'), 1)),
    'bad_dtype': npy('>i8', [1], b'\x00' * 8),
    'truncated': npy('<f4', [4], b'\x00' * 12),
    'trailing': npy('<f4', [1], b'\x00' * 8),
    'bad_dict': b'\x93NUMPY\x01\x00\x20\x00' + b"{'descr': '<f4', 'shape': (1,)}\n",
    'huge_shape': npy('<f8', [99999999999, 99999999], b''),
    'header_past_end': b'\x93NUMPY\x01\x00\xff\xff{}',
    'bad_magic': b'\x93NUMPX\x01\x00\x00\x00',
}
for k, v in npys.items():
    put('npy', k, v)

# ---- safetensors ------------------------------------------------------------
def st(tensors, meta=None, pad=True, extra=b''):
    hdr, data = {}, b''
    for name, (dtype, shape, payload) in tensors.items():
        hdr[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(payload)]}
        data += payload
    if meta is not None:
        hdr['__metadata__'] = meta
    h = json.dumps(hdr).encode()
    if pad:
        h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + data + extra

good = {'w': ('F32', [2, 2], struct.pack('<4f', 1, 2, 3, 4)), 'b': ('F64', [2], struct.pack('<2d', 5, 6))}
sts = {
    'good': st(good, {'format': 'pt'}),
    'scalar_and_empty': st({'s': ('F32', [], struct.pack('<f', 1)), 'e': ('F32', [0, 3], b'')}),
    'int_types': st({'i': ('I64', [2], struct.pack('<2q', 1, -1)), 'u': ('U8', [3], b'abc'),
                     'h': ('F16', [2], b'\x00\x3c\x00\xc0'), 'bf': ('BF16', [1], b'\x80\x3f')}),
    'trailing': st(good, extra=b'\x00' * 4),
    'truncated': st(good)[:-3],
    'bad_json': struct.pack('<Q', 8) + b'{"w": [}',
    'huge_header_len': struct.pack('<Q', 1 << 62) + b'{}',
    'bad_dtype': st({'w': ('Q7', [1], b'\x00' * 4)}),
    'shape_mismatch': st({'w': ('F32', [3], b'\x00' * 8)}),
    'meta_not_string': struct.pack('<Q', 32) + b'{"__metadata__": {"a": 1}}      ',
    'overlap': struct.pack('<Q', 120) + (b'{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
                                        b'"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}').ljust(120) + b'abc',
    'empty': b'',
}
for k, v in sts.items():
    put('safetensors', k, v)

# ---- data sets: first byte = form (0 idx, 1 npy, 2 idx + labels) + limit << 2 --
put('dataset', 'idx_all', bytes([0]) + imgs)
put('dataset', 'idx_limit2', bytes([0 | 2 << 2]) + imgs)
put('dataset', 'idx_f32', bytes([0]) + cases['f32_1d'])
put('dataset', 'npy_u1', bytes([1]) + npys['u1_3d'])
put('dataset', 'npy_f4_limit1', bytes([1 | 1 << 2]) + npys['f4_2d'])
put('dataset', 'npy_nan', bytes([1]) + npys['nan'])
put('dataset', 'idx_labels', bytes([2]) + struct.pack('>H', len(imgs)) + imgs + labs)
put('dataset', 'idx_labels_limit1', bytes([2 | 1 << 2]) + struct.pack('>H', len(imgs)) + imgs + labs)
put('dataset', 'idx_labels_mismatch', bytes([2]) + struct.pack('>H', len(imgs)) + imgs + idx(8, [2], b'\x00\x01'))
put('dataset', 'idx_labels_f32', bytes([2]) + struct.pack('>H', len(imgs)) + imgs + cases['f32_1d'])

# ---- checkpoints ------------------------------------------------------------
ckpt_path = sys.argv[1] if len(sys.argv) > 1 else None
if ckpt_path:
    raw = open(ckpt_path, 'rb').read()
    put('ckpt', 'ae_tiny', raw)
    n = struct.unpack('<Q', raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    def again(h):
        b = json.dumps(h).encode()
        b += b' ' * ((8 - len(b) % 8) % 8)
        return struct.pack('<Q', len(b)) + b + body
    import copy
    for key, val, name in [('settings', 'hidden=1000000', 'huge_hidden'), ('settings', 'hidden=4,,2', 'empty_elem'),
                           ('model', 'no-such-model', 'bad_model'), ('step', '-1', 'bad_step'),
                           ('example', '(0)', 'bad_example'), ('format', 'other', 'bad_format')]:
        h = copy.deepcopy(hdr)
        if key in h['__metadata__']:
            h['__metadata__'][key] = val
            put('ckpt', name, again(h))
    h = copy.deepcopy(hdr)
    del h[[k for k in h if k != '__metadata__'][0]]
    put('ckpt', 'missing_tensor', again(h))
    put('ckpt', 'truncated', raw[:-10])

# ---- argument lists (NUL-separated; the first byte picks the model for --set) --
argvs = [
    b'\x00ae\x00--data\x00spiral\x00--steps\x0010\x00--lr\x000.01\x00--set\x00hidden=4,2',
    b'\x05cae\x00--set=probes=4\x00--set\x00lambda=0.1\x00--quiet',
    b'\x00ae\x00--set\x00hidden=1,,2',
    b'\x00ae\x00--lr\x000x10',
    b'\x00ae\x00--lr\x00inf\x00--steps\x00 5',
    b'\x00ae\x00--set\x00hidden=3\x00--set\x00hidden=4',
    b'\x00ae\x00--data\x00\x00--out\x00x',
    b'\x00--batch-size=0\x00--steps',
    b'\x00--\x00--data\x00x\x00y',
    b'\x00--help',
    b'2G',
    b'1.5Mi\x00',
    b'\x0a--set\x00steps=20\x00--set\x00code=10\x00psd',
]
for i, a in enumerate(argvs):
    put('args', 'argv%02d' % i, a)
