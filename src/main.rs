//! The `sagereport` binary: the global allocator and SIGPIPE handling, then
//! [`sagereport::cli::main`], which owns everything else.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Behave in pipes (`sagereport compare … | head`): die quietly on a closed
    // stdout like other Unix tools, instead of panicking on the write error.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    sagereport::cli::main()
}
