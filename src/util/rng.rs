//! Seeded pseudorandom generators, implemented here so that shuffles and
//! bootstraps are bit-for-bit stable regardless of dependency versions.

/// SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
/// generators", OOPSLA): expands a `u64` seed into xoshiro state, as the
/// xoshiro authors recommend, and drives the runner's deterministic shuffle.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// xoshiro256\*\* 1.0 (Blackman & Vigna 2021, "Scrambled linear pseudorandom
/// number generators", ACM TOMS 47(4)), implemented here so bootstrap results
/// are bit-for-bit stable regardless of dependency versions.
#[derive(Clone, Debug)]
pub(crate) struct Xoshiro256StarStar([u64; 4]);

impl Xoshiro256StarStar {
    pub(crate) fn seed_from_u64(seed: u64) -> Self {
        let mut sm = SplitMix64(seed);
        // SplitMix64 output is never all-zero for four consecutive draws.
        Xoshiro256StarStar([sm.next(), sm.next(), sm.next(), sm.next()])
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform integer in `[0, n)`, `n > 0`, without modulo bias: Lemire's
    /// multiply-and-reject method (Lemire 2019, "Fast random integer
    /// generation in an interval", ACM TOMACS 29(1)).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }
}
