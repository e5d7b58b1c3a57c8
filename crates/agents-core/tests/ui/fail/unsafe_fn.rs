use agents_core::prelude::*;

/// Read a value.
#[function_tool]
async unsafe fn read(address: usize) -> u8 {
    unsafe { *(address as *const u8) }
}

fn main() {}
