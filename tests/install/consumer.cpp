/* SPDX-License-Identifier: MIT */
// consumer.cpp - a C++ program built with CMake's find_package(goconc),
// through the C API and the installed C++ header.
#include <cstdio>
#include <string>

#include <goconc.h>
#include <goconc.hpp>

int main()
{
    goconc_value *v = nullptr;
    if (goconc_value_new(&v, nullptr, nullptr) != GOCONC_OK)
        return 1;
    static std::string config = "v1";
    if (goconc_value_store(v, &config) != GOCONC_OK)
        return 1;
    goconc_read_lock();
    const auto *s = static_cast<const std::string *>(goconc_value_load(v));
    bool ok = s != nullptr && *s == "v1";
    goconc_read_unlock();
    goconc_value_free(v);
    if (!ok)
        return 1;
    goconc::map<int, int> m;
    m.store(1, 2);
    if (m.load(1) != std::optional<int>(2))
        return 1;
    std::printf("cmake consumer: ok (%s)\n", goconc_version_string());
    return 0;
}
