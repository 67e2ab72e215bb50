//! `cargo run --release -p voxcal-log-sanitizer --example sanitize < in.log > out.log`
//!
//! Sanitizes stdin to stdout line by line, in constant memory. Invalid UTF-8 is
//! passed through lossily (as U+FFFD), never a panic.
//!
//! Flags: `--pseudonymize KEY` (keyed HMAC tags instead of blank markers),
//! `--disable KIND` (repeatable; email, phone, iban, card, secret, name, dob, ip, tax_id,
//! sv_number, address).
#![allow(clippy::print_stderr)]

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use voxcal_log_sanitizer::{Kind, Sanitizer};

const USAGE: &str = "usage: sanitize [--pseudonymize KEY] [--disable KIND]... < in.log > out.log";

fn main() -> ExitCode {
    let mut builder = Sanitizer::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pseudonymize" => match args.next() {
                Some(key) => builder = builder.pseudonymize(key),
                None => return usage("--pseudonymize needs a KEY"),
            },
            "--disable" => match args.next().map(|k| k.parse::<Kind>()) {
                Some(Ok(kind)) => builder = builder.disable(kind),
                Some(Err(err)) => return usage(&err.to_string()),
                None => return usage("--disable needs a KIND"),
            },
            "-h" | "--help" => {
                eprintln!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument `{other}`")),
        }
    }
    let sanitizer = builder.build();
    match run(&sanitizer) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is a normal end.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sanitize: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(sanitizer: &Sanitizer) -> io::Result<()> {
    let stdin = io::stdin().lock();
    let mut input = io::BufReader::with_capacity(64 * 1024, stdin);
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        out.write_all(sanitizer.sanitize_bytes(&line).as_bytes())?;
    }
    out.flush()
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("sanitize: {problem}\n{USAGE}");
    ExitCode::from(2)
}
