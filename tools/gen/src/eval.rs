//! Interprets the model: the checksum `app` must print, whatever the language, linker or LTO mode.

use crate::model::{Callee, Expr, Owner, Program, Stmt, Unit, Var};

struct Env {
    x: u32,
    a: u32,
    i: u32,
}

impl Program {
    fn unit(&self, owner: Owner) -> &Unit {
        match owner {
            Owner::Module(g) => &self.modules[g].unit,
            Owner::Crate(c) => &self.crates[c].unit,
        }
    }

    fn call(&self, callee: Callee, x: u32) -> u32 {
        match callee {
            Callee::Hot(owner, idx) => self.expr(&self.unit(owner).hot[idx], &Env { x, a: 0, i: 0 }),
            Callee::Cold(owner, idx) => self.body(&self.unit(owner).cold[idx], x),
        }
    }

    fn body(&self, stmts: &[Stmt], x: u32) -> u32 {
        let mut env = Env { x, a: x, i: 0 };
        self.stmts(stmts, &mut env);
        env.a
    }

    fn stmts(&self, stmts: &[Stmt], env: &mut Env) {
        for s in stmts {
            match s {
                Stmt::Set(e) => env.a = self.expr(e, env),
                Stmt::Loop(n, body) => {
                    for i in 0..*n {
                        env.i = i;
                        self.stmts(body, env);
                    }
                }
                Stmt::IfLow { mask, value, then } => {
                    if env.a & mask == *value {
                        self.stmts(then, env);
                    }
                }
            }
        }
    }

    fn expr(&self, e: &Expr, env: &Env) -> u32 {
        match e {
            Expr::Var(Var::X) => env.x,
            Expr::Var(Var::A) => env.a,
            Expr::Var(Var::I) => env.i,
            Expr::Const(k) => *k,
            Expr::Add(l, r) => self.expr(l, env).wrapping_add(self.expr(r, env)),
            Expr::Mul(l, r) => self.expr(l, env).wrapping_mul(self.expr(r, env)),
            Expr::Xor(l, r) => self.expr(l, env) ^ self.expr(r, env),
            Expr::Shr(v, s) => self.expr(v, env) >> s,
            Expr::Rotl(v, s) => self.expr(v, env).rotate_left(*s),
            Expr::Call(c, arg) => self.call(*c, self.expr(arg, env)),
        }
    }

    /// `_run` of a module or crate.
    pub fn run(&self, owner: Owner, x: u32) -> u32 {
        self.body(&self.unit(owner).run, x)
    }

    /// What `app` prints after `checksum: ` when run with `argc` arguments (counting its name)
    /// for `iterations` iterations: the rendering of `main` in `render::main_cc`.
    pub fn checksum(&self, argc: u32, iterations: u32) -> u64 {
        let seed = argc.wrapping_mul(2_654_435_761).wrapping_add(self.main_seed);
        let mut checksum: u64 = 0;
        for it in 0..iterations {
            let mut x = seed ^ it.wrapping_mul(0x9e37_79b9);
            for (_, lib) in self.used_libs() {
                for g in lib.modules.clone() {
                    x = self.run(Owner::Module(g), x);
                }
                checksum = checksum.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(x));
            }
            if !self.crates.is_empty() {
                for c in 0..self.crates.len() {
                    x = self.run(Owner::Crate(c), x);
                }
                checksum = checksum.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(x));
            }
        }
        checksum
    }
}
