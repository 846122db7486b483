{
  "targets": [
    {
      "target_name": "vzcpt",
      "sources": ["vzcpt.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
