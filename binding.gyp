{
  "targets": [
    {
      "target_name": "iommufd",
      "sources": ["src/backends/kernel/native/iommufd.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
