//! safetensors files from bytes (no filesystem, so it runs in wasm), read by the `safetensors`
//! crate, with a thin layer of headlight's own checks in front of it.
//!
//! Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON mapping each tensor
//! name to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the end of the
//! header), then the data. headlight's [`Header`] checks a header from the file's first `8 + N`
//! bytes and its length alone, so a download is checked before the rest arrives: the header fits
//! the file and a fixed cap, every tensor's byte length matches its dtype and shape, no two
//! tensors overlap. Its offsets stay u64 (a header may describe more than wasm32 can address),
//! and its messages name the tensor at fault. The crate then reads the whole file
//! ([`SafeTensors::parse`]) with its own checks (the tensors cover the data section exactly).
//! Pickle (`.bin`) checkpoints are never read anywhere in headlight.

use std::collections::BTreeMap;

use half::{bf16, f16};
pub use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde::Deserialize;

use crate::error::{Error, Result};

/// No real checkpoint header comes near this; a bigger one is refused before it is parsed.
pub const MAX_HEADER_BYTES: u64 = 100 * 1024 * 1024;

/// One tensor's header entry: dtype, shape, and the byte range it owns in the data section.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Byte range in the data section, as u64: a header may describe more than wasm32 can address.
    pub data: std::ops::Range<u64>,
}

/// A validated header: read from the start of a file of known length, so a download can be
/// checked from its first bytes before the rest arrives.
#[derive(Debug)]
pub struct Header {
    file_len: u64,
    tensors: BTreeMap<String, TensorInfo>,
}

impl Header {
    /// How many bytes from the start of the file hold the header (8 + its length), read from the
    /// first 8 bytes and checked against the cap and the file's length.
    pub fn prefix_len(first: &[u8], file_len: u64) -> Result<usize> {
        let fail = |problem: String| Err(Error::Safetensors(problem));
        if first.len() < 8 || file_len < 8 {
            return fail(format!("file is {file_len} bytes, too short to hold the 8-byte header length"));
        }
        let header_len = u64::from_le_bytes(first[..8].try_into().expect("8 bytes"));
        if header_len > MAX_HEADER_BYTES {
            return fail(format!("header claims {header_len} bytes, over the {MAX_HEADER_BYTES}-byte limit: not a safetensors file, or corrupt"));
        }
        if header_len > file_len - 8 {
            return fail(format!(
                "header claims {header_len} bytes but the file has only {} after the length: truncated or not a safetensors file",
                file_len - 8
            ));
        }
        Ok(8 + header_len as usize)
    }

    /// Parses and checks the header in `start` (at least [`Header::prefix_len`] bytes of a file
    /// of `file_len` bytes): JSON, every tensor's byte length against dtype x shape, bounds and
    /// overlaps.
    pub fn parse(start: &[u8], file_len: u64) -> Result<Header> {
        let fail = |problem: String| Err(Error::Safetensors(problem));
        let data_start = Self::prefix_len(start, file_len)?;
        if start.len() < data_start {
            return fail(format!("only {} of the header's {data_start} bytes were given", start.len()));
        }
        let data_len = file_len - data_start as u64;
        let header: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(&start[8..data_start]) {
            Ok(header) => header,
            Err(e) => return fail(format!("header is not a JSON object ({e})")),
        };

        let mut tensors = BTreeMap::new();
        for (name, entry) in &header {
            if name == "__metadata__" {
                continue;
            }
            tensors.insert(name.clone(), Self::entry(name, entry, data_len)?);
        }
        let mut extents: Vec<(u64, u64, &str)> =
            tensors.iter().filter(|(_, t)| !t.data.is_empty()).map(|(name, t)| (t.data.start, t.data.end, name.as_str())).collect();
        extents.sort();
        for pair in extents.windows(2) {
            let ((_, end, first), (begin, _, second)) = (pair[0], pair[1]);
            if begin < end {
                return fail(format!("tensors `{first}` and `{second}` overlap in the data section"));
            }
        }
        Ok(Header { file_len, tensors })
    }

    fn entry(name: &str, entry: &serde_json::Value, data_len: u64) -> Result<TensorInfo> {
        let bad = |problem: &str| Error::tensor(name, problem);
        let dtype_name = entry.get("dtype").and_then(|d| d.as_str()).ok_or_else(|| bad("has no `dtype` string in the header"))?;
        let dtype = Dtype::deserialize(&entry["dtype"]).map_err(|_| bad(&format!("has unknown dtype `{dtype_name}`")))?;
        let shape = entry
            .get("shape")
            .and_then(|s| s.as_array())
            .and_then(|dims| dims.iter().map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok())).collect::<Option<Vec<_>>>())
            .ok_or_else(|| bad("has no `shape` list of non-negative integers"))?;
        let offsets = entry
            .get("data_offsets")
            .and_then(|o| o.as_array())
            .filter(|o| o.len() == 2)
            .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
            .ok_or_else(|| bad("has no `data_offsets` pair of integers"))?;
        let (begin, end) = offsets;
        if begin > end || end > data_len {
            return Err(bad(&format!("has data_offsets [{begin}, {end}] outside the {data_len}-byte data section (truncated file?)")));
        }
        let bits = shape
            .iter()
            .try_fold(dtype.bitsize() as u64, |n, &d| n.checked_mul(d as u64))
            .ok_or_else(|| bad("has a shape whose size overflows"))?;
        if end - begin != bits.div_ceil(8) {
            return Err(bad(&format!("holds {} bytes but {dtype} {shape:?} needs {}", end - begin, bits.div_ceil(8))));
        }
        Ok(TensorInfo { dtype, shape, data: begin..end })
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    pub fn tensors(&self) -> impl Iterator<Item = (&str, &TensorInfo)> {
        self.tensors.iter().map(|(name, t)| (name.as_str(), t))
    }
}

/// A whole safetensors file borrowing its bytes: checked by [`Header`], then read by the crate.
pub struct SafeTensors<'a> {
    file: safetensors::SafeTensors<'a>,
}

impl<'a> SafeTensors<'a> {
    pub fn parse(file: &'a [u8]) -> Result<Self> {
        Header::parse(file, file.len() as u64)?;
        let file = safetensors::SafeTensors::deserialize(file).map_err(|e| Error::Safetensors(format!("cannot be read: {e}")))?;
        Ok(SafeTensors { file })
    }

    pub fn get(&self, name: &str) -> Option<TensorView<'a>> {
        self.file.tensor(name).ok()
    }

    /// Every tensor's name, in sorted order.
    pub fn names(&self) -> Vec<&str> {
        let mut names = self.file.names();
        names.sort_unstable();
        names
    }
}

/// Values in one of the float types a checkpoint stores: a tensor as the file holds it, and what
/// the kernels keep a table in ([`crate::kernels::table::Table`]).
#[derive(Debug, Clone)]
pub enum Values {
    F32(Vec<f32>),
    F16(Vec<f16>),
    Bf16(Vec<bf16>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F16(v) => v.len(),
            Values::Bf16(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i`, widened to f32 (exactly).
    pub fn at(&self, i: usize) -> f32 {
        match self {
            Values::F32(v) => v[i],
            Values::F16(v) => v[i].to_f32(),
            Values::Bf16(v) => v[i].to_f32(),
        }
    }

    /// Every value, widened to f32.
    pub fn into_f32(self) -> Vec<f32> {
        match self {
            Values::F32(v) => v,
            other => (0..other.len()).map(|i| other.at(i)).collect(),
        }
    }
}

/// A tensor's values, in the file's dtype, and its shape.
#[derive(Debug)]
pub struct Stored {
    pub values: Values,
    pub shape: Vec<usize>,
}

/// Reads the tensors of `file` that `wanted` names, in the dtype the file stores them in, from
/// the end of the file backwards, each one's bytes freed as soon as it is read (the file is cut
/// short and shrunk in place), so the file and the tensors are never held whole at once: a file
/// peaks near its size plus its largest tensor instead of twice its size, and a 16-bit one stays
/// 16-bit. The file is checked whole first ([`SafeTensors::parse`]); a tensor of a dtype other
/// than F32, F16 and BF16 is refused by name.
pub fn read(mut file: Vec<u8>, wanted: impl Fn(&str) -> bool) -> Result<BTreeMap<String, Stored>> {
    SafeTensors::parse(&file)?;
    let (header, data_start) = (Header::parse(&file, file.len() as u64)?, Header::prefix_len(&file, file.len() as u64)?);
    let mut tensors: Vec<(String, TensorInfo)> = header.tensors.into_iter().filter(|(name, _)| wanted(name)).collect();
    tensors.sort_by_key(|(_, t)| std::cmp::Reverse(t.data.start));
    let mut read = BTreeMap::new();
    for (name, TensorInfo { dtype, shape, data }) in tensors {
        // inside the file, whose length is a usize: checked by the header
        let (begin, end) = (data_start + data.start as usize, data_start + data.end as usize);
        let values = values_of(&name, dtype, &file[begin..end])?;
        // an empty tensor may sit inside another's bytes (only non-empty ones are kept apart)
        if begin < end {
            file.truncate(begin);
            file.shrink_to_fit();
        }
        read.insert(name, Stored { values, shape });
    }
    Ok(read)
}

/// One tensor's little-endian `bytes` of `dtype`.
fn values_of(name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Values> {
    let words = |n: usize| bytes.chunks_exact(n);
    Ok(match dtype {
        Dtype::F32 => Values::F32(words(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        Dtype::F16 => Values::F16(words(2).map(|b| f16::from_le_bytes([b[0], b[1]])).collect()),
        Dtype::BF16 => Values::Bf16(words(2).map(|b| bf16::from_le_bytes([b[0], b[1]])).collect()),
        dtype => return Err(Error::tensor(name, format!("has dtype {dtype}; headlight reads F32, F16 and BF16"))),
    })
}

/// Writes a safetensors file of F32 tensors: used by tests and benchmarks that build their own
/// checkpoints, so they go through the same reader as a real download.
pub fn write_f32(tensors: &[(&str, Vec<usize>, &[f32])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape, values) in tensors {
        let end = offset + values.len() * 4;
        header.insert(name.to_string(), serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}));
        offset = end;
    }
    let mut header = serde_json::to_vec(&header).expect("a JSON map serialises");
    while !header.len().is_multiple_of(8) {
        header.push(b' ');
    }
    let mut file = Vec::with_capacity(8 + header.len() + offset);
    file.extend_from_slice(&(header.len() as u64).to_le_bytes());
    file.extend_from_slice(&header);
    for (_, _, values) in tensors {
        file.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    }
    file
}
