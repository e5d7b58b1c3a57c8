//! Reading one file out of a wheel (a zip archive): stored or deflated entries, no zip64.

/// Why a file could not be read from a wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WheelError {
    /// The archive is damaged or not a zip file.
    Corrupt(String),
    /// The archive has no such file.
    NoMember,
    /// The file's declared size is not the expected one.
    Size(u64),
}

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// The contents of `member` in the zip archive `zip`, which must be `size` bytes long.
pub(crate) fn extract(zip: &[u8], member: &str, size: u64) -> Result<Vec<u8>, WheelError> {
    let corrupt = |what: &str| WheelError::Corrupt(what.to_owned());
    let end = find_end(zip).ok_or_else(|| corrupt("no zip end-of-directory record"))?;
    let entries = u16_at(zip, end + 10).ok_or_else(|| corrupt("truncated directory record"))?;
    let dir_offset = u32_at(zip, end + 16).ok_or_else(|| corrupt("truncated directory record"))?;
    if dir_offset == u32::MAX || entries == u16::MAX {
        return Err(corrupt("zip64 archives are not supported"));
    }
    let mut at = dir_offset as usize;
    for _ in 0..entries {
        if u32_at(zip, at) != Some(DIRECTORY_ENTRY) {
            return Err(corrupt("damaged central directory"));
        }
        let field = |offset: usize| u32_at(zip, at + offset).ok_or_else(|| corrupt("truncated"));
        let short = |offset: usize| u16_at(zip, at + offset).ok_or_else(|| corrupt("truncated"));
        let method = short(10)?;
        let compressed = field(20)? as usize;
        let declared = u64::from(field(24)?);
        let name_len = usize::from(short(28)?);
        let extra_len = usize::from(short(30)?);
        let comment_len = usize::from(short(32)?);
        let local = field(42)? as usize;
        let name = zip.get(at + 46..at + 46 + name_len).ok_or_else(|| corrupt("truncated name"))?;
        at += 46 + name_len + extra_len + comment_len;
        if name != member.as_bytes() {
            continue;
        }
        if declared != size {
            return Err(WheelError::Size(declared));
        }
        if u32_at(zip, local) != Some(LOCAL_HEADER) {
            return Err(corrupt("damaged local header"));
        }
        let local_name = usize::from(u16_at(zip, local + 26).ok_or_else(|| corrupt("truncated"))?);
        let local_extra = usize::from(u16_at(zip, local + 28).ok_or_else(|| corrupt("truncated"))?);
        let start = local + 30 + local_name + local_extra;
        let data = zip
            .get(start..start.saturating_add(compressed))
            .ok_or_else(|| corrupt("the file's data is cut short"))?;
        let contents = match method {
            0 => data.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, size as usize)
                .map_err(|e| WheelError::Corrupt(format!("cannot inflate {member}: {e}")))?,
            other => return Err(WheelError::Corrupt(format!("compression method {other}"))),
        };
        if contents.len() as u64 != size {
            return Err(corrupt("the file's data is shorter than its declared size"));
        }
        return Ok(contents);
    }
    Err(WheelError::NoMember)
}

/// The offset of the end-of-central-directory record (searched from the end, past a comment).
fn find_end(zip: &[u8]) -> Option<usize> {
    let last = zip.len().checked_sub(22)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| u32_at(zip, at) == Some(END_OF_DIRECTORY))
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}
