// The kernel backend's per-call ioctl entries as V8 "fast API calls" (optional second addon,
// build/Release/iommufd_fast.node).
//
// Why: every iommufd call of the kernel backend crosses from JavaScript into C once, through
// iommufd.c's N-API `ioctlScratch(fd, cmd)`. An N-API callback goes through V8's API-callback
// builtin, a handle scope, napi_get_cb_info and value conversions; under QEMU/TCG that crossing
// alone costs 1.5-3.6 us, about as much as the whole C ioctl (bench/README.md, "Kernel
// micro-benchmark"). A function template with a fast C function lets TurboFan-optimized code call
// the C function directly with the integers in registers. Unoptimized code (and any call V8 does
// not take fast) runs the ordinary slow callback below, which does exactly the same ioctl.
//
// The same entries as iommufd.c's scratch entries, on a scratch buffer of this addon's own:
//   structScratch() -> ArrayBuffer (the same object every time, one per Node environment)
//   ioctlScratch(fd, cmd) -> 0 | errno
//   ioctlScratchArray(fd, cmd, pointerOffset, arrayOffset) -> 0 | errno
//   slowCalls() -> how many calls took the slow callbacks (tests check that fast calls happen)
//
// Node 20 installs V8's headers but not v8-fast-api-calls.h, so the three types this file needs
// are declared below to match the V8 that Node 20 ships (11.3). Their constructors are V8's own,
// exported by the node binary; only the layout of CTypeInfo (three bytes: type, sequence type,
// flags) and the Type numbers must agree, and they were read from node 20.20.2's own fast-call
// descriptors (kInt32 = 3, kUint32 = 4, kV8Value = 10). Any other V8 version refuses to compile,
// the install script then builds only iommufd.node, and the backend uses its N-API entries.
#include <node.h>
#include <v8-version.h>
#include <v8.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#if !(V8_MAJOR_VERSION == 11 && V8_MINOR_VERSION == 3)
#error "fast-ioctl.cc declares V8 11.3's fast-call types (Node 20); other V8 versions use the N-API entries"
#endif

namespace v8 {

class CTypeInfo {
 public:
  enum class Type : uint8_t { kVoid = 0, kBool = 1, kUint8 = 2, kInt32 = 3, kUint32 = 4, kV8Value = 10 };
  enum class SequenceType : uint8_t { kScalar = 0 };
  enum class Flags : uint8_t { kNone = 0 };
  explicit constexpr CTypeInfo(Type type) : type_(type), sequence_type_(SequenceType::kScalar), flags_(Flags::kNone) {}

 private:
  Type type_;
  SequenceType sequence_type_;
  Flags flags_;
};

class CFunctionInfo {
 public:
  CFunctionInfo(const CTypeInfo& return_info, unsigned int arg_count, const CTypeInfo* arg_info);
  const CTypeInfo& ArgumentInfo(unsigned int index) const;

 private:
  const CTypeInfo return_info_;
  const unsigned int arg_count_;
  const CTypeInfo* arg_info_;
};

class CFunction {
 public:
  CFunction(const void* address, const CFunctionInfo* type_info);

 private:
  const void* address_;
  const CFunctionInfo* type_info_;
};

}  // namespace v8

namespace {

constexpr size_t kScratchBytes = 2048;  // as SCRATCH_BYTES in iommufd.c

// The scratch buffer of the environment running on this thread. Each Node environment (the main
// thread, each worker) runs JavaScript on its own thread, and fast calls carry no per-environment
// data, so the address lives in a thread-local set when the module is loaded there.
thread_local uint8_t* scratch_data = nullptr;
thread_local uint64_t slow_calls = 0;

struct Environment {
  std::shared_ptr<v8::BackingStore> store;
  v8::Global<v8::ArrayBuffer> buffer;
};

int32_t run_ioctl(int32_t fd, uint32_t cmd) {
  if (scratch_data == nullptr) return EBADF;
  int rc = ioctl(fd, (unsigned long)cmd, (void*)scratch_data);
  return rc < 0 ? errno : 0;
}

int32_t run_ioctl_array(int32_t fd, uint32_t cmd, uint32_t pointer_off, uint32_t array_off) {
  if (scratch_data == nullptr) return EBADF;
  if ((uint64_t)pointer_off + 8 > kScratchBytes || array_off > kScratchBytes) return EINVAL;
  uint64_t addr = (uint64_t)(uintptr_t)(scratch_data + array_off);
  for (int i = 0; i < 8; i++) scratch_data[pointer_off + i] = (uint8_t)(addr >> (8 * i));
  int rc = ioctl(fd, (unsigned long)cmd, (void*)scratch_data);
  return rc < 0 ? errno : 0;
}

// ---- fast entries (called by TurboFan code; no allocation, no exceptions) ----

int32_t FastIoctlScratch(v8::Local<v8::Object> receiver, int32_t fd, uint32_t cmd) {
  (void)receiver;
  return run_ioctl(fd, cmd);
}

int32_t FastIoctlScratchArray(v8::Local<v8::Object> receiver, int32_t fd, uint32_t cmd, uint32_t pointer_off, uint32_t array_off) {
  (void)receiver;
  return run_ioctl_array(fd, cmd, pointer_off, array_off);
}

// ---- slow entries: the same checks and TypeErrors as iommufd.c's N-API entries ----

// napi_get_value_int32 / _uint32 semantics: a Number (any), converted like ToInt32 / ToUint32.
bool number_args(const v8::FunctionCallbackInfo<v8::Value>& info, int count) {
  if (info.Length() < count) return false;
  for (int i = 0; i < count; i++)
    if (!info[i]->IsNumber()) return false;
  return true;
}

void throw_type_error(const v8::FunctionCallbackInfo<v8::Value>& info, const char* message) {
  v8::Isolate* isolate = info.GetIsolate();
  isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8(isolate, message).ToLocalChecked()));
}

void SlowIoctlScratch(const v8::FunctionCallbackInfo<v8::Value>& info) {
  slow_calls++;
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  if (!number_args(info, 2)) return throw_type_error(info, "ioctlScratch(fd: number, cmd: number)");
  int32_t fd = info[0]->Int32Value(context).FromJust();
  uint32_t cmd = info[1]->Uint32Value(context).FromJust();
  info.GetReturnValue().Set(run_ioctl(fd, cmd));
}

void SlowIoctlScratchArray(const v8::FunctionCallbackInfo<v8::Value>& info) {
  slow_calls++;
  v8::Local<v8::Context> context = info.GetIsolate()->GetCurrentContext();
  if (!number_args(info, 4))
    return throw_type_error(info, "ioctlScratchArray(fd: number, cmd: number, pointerOffset: number, arrayOffset: number)");
  int32_t fd = info[0]->Int32Value(context).FromJust();
  uint32_t cmd = info[1]->Uint32Value(context).FromJust();
  uint32_t pointer_off = info[2]->Uint32Value(context).FromJust();
  uint32_t array_off = info[3]->Uint32Value(context).FromJust();
  info.GetReturnValue().Set(run_ioctl_array(fd, cmd, pointer_off, array_off));
}

void StructScratch(const v8::FunctionCallbackInfo<v8::Value>& info) {
  Environment* env = static_cast<Environment*>(info.Data().As<v8::External>()->Value());
  info.GetReturnValue().Set(env->buffer.Get(info.GetIsolate()));
}

void SlowCalls(const v8::FunctionCallbackInfo<v8::Value>& info) {
  info.GetReturnValue().Set(v8::Number::New(info.GetIsolate(), (double)slow_calls));
}

// ---- the fast-call descriptors (static: V8 keeps pointers to them) ----

const v8::CTypeInfo kIoctlArgs[] = {
    v8::CTypeInfo(v8::CTypeInfo::Type::kV8Value),
    v8::CTypeInfo(v8::CTypeInfo::Type::kInt32),
    v8::CTypeInfo(v8::CTypeInfo::Type::kUint32),
};
const v8::CTypeInfo kIoctlArrayArgs[] = {
    v8::CTypeInfo(v8::CTypeInfo::Type::kV8Value), v8::CTypeInfo(v8::CTypeInfo::Type::kInt32),
    v8::CTypeInfo(v8::CTypeInfo::Type::kUint32),  v8::CTypeInfo(v8::CTypeInfo::Type::kUint32),
    v8::CTypeInfo(v8::CTypeInfo::Type::kUint32),
};
const v8::CTypeInfo kReturnsInt32(v8::CTypeInfo::Type::kInt32);
const v8::CFunctionInfo kIoctlInfo(kReturnsInt32, 3, kIoctlArgs);
const v8::CFunctionInfo kIoctlArrayInfo(kReturnsInt32, 5, kIoctlArrayArgs);
const v8::CFunction kFastIoctl(reinterpret_cast<const void*>(&FastIoctlScratch), &kIoctlInfo);
const v8::CFunction kFastIoctlArray(reinterpret_cast<const void*>(&FastIoctlScratchArray), &kIoctlArrayInfo);

void SetFunction(v8::Isolate* isolate, v8::Local<v8::Context> context, v8::Local<v8::Object> exports, const char* name,
                 v8::FunctionCallback slow, const v8::CFunction* fast, v8::Local<v8::Value> data = v8::Local<v8::Value>()) {
  v8::Local<v8::FunctionTemplate> tmpl = v8::FunctionTemplate::New(
      isolate, slow, data, v8::Local<v8::Signature>(), 0, v8::ConstructorBehavior::kThrow, v8::SideEffectType::kHasSideEffect, fast);
  v8::Local<v8::String> key = v8::String::NewFromUtf8(isolate, name).ToLocalChecked();
  exports->Set(context, key, tmpl->GetFunction(context).ToLocalChecked()).Check();
}

void Cleanup(void* arg) {
  Environment* env = static_cast<Environment*>(arg);
  if (env->store && scratch_data == static_cast<uint8_t*>(env->store->Data())) scratch_data = nullptr;
  env->buffer.Reset();
  delete env;
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  v8::Isolate* isolate = context->GetIsolate();
  Environment* env = new Environment();
  env->store = v8::ArrayBuffer::NewBackingStore(isolate, kScratchBytes);  // zero-initialized
  memset(env->store->Data(), 0, kScratchBytes);
  v8::Local<v8::ArrayBuffer> buffer = v8::ArrayBuffer::New(isolate, env->store);
  env->buffer.Reset(isolate, buffer);
  scratch_data = static_cast<uint8_t*>(env->store->Data());
  node::AddEnvironmentCleanupHook(isolate, Cleanup, env);

  SetFunction(isolate, context, exports, "structScratch", StructScratch, nullptr, v8::External::New(isolate, env));
  SetFunction(isolate, context, exports, "ioctlScratch", SlowIoctlScratch, &kFastIoctl);
  SetFunction(isolate, context, exports, "ioctlScratchArray", SlowIoctlScratchArray, &kFastIoctlArray);
  SetFunction(isolate, context, exports, "slowCalls", SlowCalls, nullptr);
}
