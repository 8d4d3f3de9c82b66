/* SPDX-License-Identifier: MIT */
// consumer.cpp - a C++ program built with CMake's find_package(goconc).
#include <cstdio>
#include <string>

#include <goconc.h>

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
    std::printf("cmake consumer: ok (%s)\n", goconc_version_string());
    return 0;
}
