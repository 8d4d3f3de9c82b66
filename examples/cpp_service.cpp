/* SPDX-License-Identifier: MIT */
// cpp_service.cpp - libgoconc from C++ (goconc.hpp) in the shape of a
// small service: worker threads answer requests from a shared response
// cache (goconc::map), read a hot-reloaded configuration
// (goconc::value), format into pooled buffers (goconc::pool), log
// through a shared slice, and build one lazily-initialised table
// (goconc::once_value).  A reloader thread swaps the configuration
// while the workers run; none of them takes a lock of its own.
//
//   cpp-service [requests-per-worker]
#include <goconc.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

struct config {
    unsigned generation;
    std::string greeting;
};

// The work the cache saves (a template, a query in a real service).
std::string render(const std::string &greeting, unsigned user)
{
    std::string out = greeting + ", user " + std::to_string(user) + "\n";
    for (unsigned line = 0; line < 8; line++)
        out += "  item " + std::to_string(user * 8 + line) + "\n";
    return out;
}

struct service {
    goconc::map<std::string, std::string> cache;       // "gen/user" -> response
    goconc::value<config> cfg{std::make_unique<config>(config{0, "hello"})};
    goconc::pool<std::string> buffers{{}, [](std::string &b) { b.clear(); }};
    goconc::slice<std::uint32_t> served;                // one entry per request
    goconc::once_value<std::vector<unsigned>> users;    // built on first use

    const std::vector<unsigned> &user_table()
    {
        return users.get([] {
            std::vector<unsigned> t;
            for (unsigned u = 0; u < 64; u++)
                t.push_back(u * 7 % 64);
            return t;
        });
    }

    // One request: find or render the response for this config
    // generation, format it in a pooled buffer, record the request.
    std::size_t handle(unsigned user)
    {
        // A counted reference: safe to hold across the slow render.
        goconc::value<config>::ref c = cfg.acquire();
        std::string key = std::to_string(c->generation) + "/" + std::to_string(user);
        std::string body;
        if (std::optional<std::string> hit = cache.load(key))
            body = std::move(*hit);
        else
            body = cache.load_or_store(key, render(c->greeting, user)).first;

        auto buf = buffers.get(); // back to the pool at scope end
        *buf += "200 OK\r\n";
        *buf += body;
        (void)served.append(user);
        return buf->size();
    }
};

} // namespace

int main(int argc, char **argv)
{
    unsigned per_worker = argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 20000;
    constexpr unsigned workers = 4;
    service svc;
    std::vector<std::thread> pool;
    std::vector<std::size_t> bytes(workers, 0);

    for (unsigned w = 0; w < workers; w++)
        pool.emplace_back([&, w] {
            const std::vector<unsigned> &users = svc.user_table();
            for (unsigned i = 0; i < per_worker; i++)
                bytes[w] += svc.handle(users[(i * 31 + w) % users.size()]);
        });
    std::thread reloader([&] {
        for (unsigned g = 1; g <= 5; g++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            svc.cfg.emplace(config{g, g % 2 ? "hi" : "hello"});
        }
    });
    for (std::thread &t : pool)
        t.join();
    reloader.join();

    std::size_t total = 0;
    for (std::size_t b : bytes)
        total += b;
    goconc_pool_stats ps = svc.buffers.stats();
    std::printf("served %zu requests (%zu bytes), %zu cached responses, config generation %u\n",
                svc.served.size(), total, svc.cache.size(), svc.cfg.acquire()->generation);
    std::printf("buffers: %llu gets, %llu reused\n", static_cast<unsigned long long>(ps.gets),
                static_cast<unsigned long long>(ps.hits));
    // Every request was recorded exactly once.
    return svc.served.size() == std::size_t(workers) * per_worker ? 0 : 1;
}
