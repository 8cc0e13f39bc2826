"""The public API is documented: every name llcore lists as public imports from `llcore`, and every public class,
function and method has a docstring that names each of its arguments (so their meaning, shape and default are
written down where a user looks)."""
import inspect

import pytest

import llcore

MODULES = ["metrics", "sweep", "compare", "landscape", "checkpoint", "seeding"]      # public submodules: llcore.<name>


def public_objects():
    for name in llcore.__all__:
        yield name, getattr(llcore, name)
    for mod in MODULES:
        module = getattr(llcore, mod)
        for name, obj in vars(module).items():
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)) \
                    and obj.__module__ == module.__name__:
                yield f"{mod}.{name}", obj


def undocumented_arguments(obj, doc: str) -> list[str]:
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and p.name not in doc]


def checks(name, obj) -> list[str]:
    problems = []
    doc = inspect.getdoc(obj) or ""
    if not doc:
        return [f"{name}: no docstring"]
    if inspect.isfunction(obj):
        problems += [f"{name}: argument {a!r} not described" for a in undocumented_arguments(obj, doc)]
    if inspect.isclass(obj):
        init_doc = doc + (inspect.getdoc(obj.__init__) or "")
        if "__init__" in vars(obj) or any("__dataclass_fields__" in vars(c) for c in obj.__mro__):
            problems += [f"{name}: constructor argument {a!r} not described"
                         for a in undocumented_arguments(obj, init_doc)]
        for meth_name, meth in vars(obj).items():
            if meth_name.startswith("_") or not (inspect.isfunction(meth) or isinstance(meth, property)):
                continue
            if not (inspect.getdoc(meth) or ""):
                problems.append(f"{name}.{meth_name}: no docstring")
    return problems


def test_every_public_name_imports_from_llcore():
    missing = [n for n in llcore.__all__ if not hasattr(llcore, n)]
    assert not missing
    for mod in MODULES:
        assert inspect.ismodule(getattr(llcore, mod)), mod


def test_every_public_object_is_documented():
    problems = [p for name, obj in public_objects() for p in checks(name, obj)]
    assert not problems, "\n".join(problems)


def test_the_check_catches_an_undocumented_function():
    def f(x, steps=3):
        """Does something with x."""
    assert checks("f", f) == ["f: argument 'steps' not described"]
    assert checks("g", lambda: None) == ["g: no docstring"]
