{
  "targets": [
    {
      "target_name": "iommufd",
      "sources": ["src/backends/kernel/native/iommufd.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ],
  "conditions": [
    ["'<!(node -p \"process.env.IOASFORM_FAST_IOCTL || 0\")'=='1'", {
      "targets": [
        {
          "target_name": "iommufd_fast",
          "sources": ["src/backends/kernel/native/fast-ioctl.cc"],
          "cflags_cc": ["-Wall", "-Wextra", "-Wno-cast-function-type", "-O2"]
        }
      ]
    }]
  ]
}
